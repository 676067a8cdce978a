-- The NOT NULL columns of $table_name that have a default: (column_name, column_default). A NULL
-- merged into one takes the default (a column added later, a row typed before it existed).
select
    column_name,
    column_default
from duckdb_columns()
where
    table_name = $table_name
    and database_name = current_database()
    and schema_name = 'main'
    and not is_nullable
    and column_default is not null
