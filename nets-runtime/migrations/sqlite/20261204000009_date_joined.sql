-- SQLite. Keep equivalent to ../postgres/.
-- nets built-in tables, part 9: `date_joined`, Django's name for when the account was
-- made (the original's user JSON shows it). Kept apart from `created` so an import
-- carries the original's value; new rows get the time of their insert.
-- SQLite adds no column with a non-constant default: a trigger fills new rows.
ALTER TABLE nets_user ADD COLUMN date_joined TEXT;
UPDATE nets_user SET date_joined = created;
CREATE TRIGGER nets_user_date_joined AFTER INSERT ON nets_user
FOR EACH ROW WHEN NEW.date_joined IS NULL
BEGIN
    UPDATE nets_user SET date_joined = NEW.created WHERE id = NEW.id;
END;
