-- PostgreSQL. Keep equivalent to ../sqlite/.
-- nets built-in tables, part 9: `date_joined`, Django's name for when the account was
-- made (the original's user JSON shows it). Kept apart from `created` so an import
-- carries the original's value; new rows get the time of their insert.
ALTER TABLE nets_user ADD COLUMN date_joined TIMESTAMPTZ;
UPDATE nets_user SET date_joined = created;
ALTER TABLE nets_user ALTER COLUMN date_joined SET DEFAULT now(), ALTER COLUMN date_joined SET NOT NULL;
