-- Macros that read one field of a JSON element, given its text `v` and its JSON type `t`
-- (from json_extract_string and json_type over a list of paths: one parse per element).
-- An unreadable field becomes NULL and never blanks the others: a value of the wrong type, a
-- number that does not fit, NaN or Infinity is NULL (validation catches it where the field is
-- required); numbers and booleans sent as text ("5000.5", "true") and numeric ids (12345) are
-- read as what they mean.

-- text that must be a JSON string
create or replace temp macro json_string_field(v, t) as
case when t = 'VARCHAR' then v end;

-- free text: a number or boolean sent instead is kept as its text
create or replace temp macro json_text_field(v, t) as
case when t in ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') then v end;

-- an id Strava sends as text or as an integer
create or replace temp macro json_id_field(v, t) as
case when t in ('VARCHAR', 'BIGINT', 'UBIGINT') then nullif(v, '') end;

-- a finite number, sent as a JSON number or as text
create or replace temp macro json_number_field(v, t) as
case
    when t in ('BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR') and isfinite(try_cast(v as double))
        then try_cast(v as double)
end;

-- a boolean, sent as true/false, as the text "true"/"false" or as 0/1
create or replace temp macro json_boolean_field(v, t) as
case
    when t = 'BOOLEAN' then v = 'true'
    when t = 'VARCHAR' and lower(trim(v)) in ('true', 'false') then lower(trim(v)) = 'true'
    when t in ('BIGINT', 'UBIGINT') and v in ('0', '1') then v = '1'
end;

-- any value as a double, NULL unless it is a finite number (NaN and Infinity are not data)
create or replace temp macro finite_double(x) as
case when isfinite(try_cast(x as double)) then try_cast(x as double) end;

-- The activity fields read by activities.sql, in the order of its struct (v[i], t[i])
create or replace temp macro activity_paths() as [
    '$.name', '$.description', '$.sport_type', '$.type', '$.start_date', '$.start_date_local',
    '$.timezone', '$.distance', '$.moving_time', '$.elapsed_time', '$.total_elevation_gain',
    '$.average_speed', '$.max_speed', '$.average_cadence', '$.average_heartrate',
    '$.max_heartrate', '$.gear_id', '$.trainer', '$.manual', '$.workout_type'
];
