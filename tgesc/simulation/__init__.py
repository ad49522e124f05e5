"""`tgesc simulate`: scripted conversations through the real desk on a virtual clock."""
