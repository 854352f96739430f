-- PostgreSQL. Keep equivalent to ../sqlite/.
-- nets built-in tables, part 6: the access-token generation. With
-- NETS_CORE_TOKEN_CACHE_SECONDS > 0 each instance keeps recently seen bearer tokens in
-- memory; every revocation made through nets writes a new random token in row 2 (row 1
-- stays the permissions generation), and a cached token is used only while the
-- generation it was loaded under is still current. Two rows, so a permission change
-- does not drop cached tokens and a logout does not drop cached permissions.
ALTER TABLE nets_perm_generation DROP CONSTRAINT nets_perm_generation_id_check;
ALTER TABLE nets_perm_generation ADD CONSTRAINT nets_perm_generation_id_check CHECK (id IN (1, 2));
INSERT INTO nets_perm_generation (id, generation) VALUES (2, 0);
