"""backstride: training-risk pipeline for runners."""
