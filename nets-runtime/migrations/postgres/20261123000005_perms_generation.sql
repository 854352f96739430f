-- PostgreSQL. Keep equivalent to ../sqlite/.
-- nets built-in tables, part 5: the permissions generation. Server instances cache each
-- user's effective permissions; every change to roles, grants or memberships writes a
-- new random token here (NETS_CORE_PERMISSIONS_SYNC = 'database'), and a cached set is
-- used only while the token it was loaded under is still current.
CREATE TABLE nets_perm_generation (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO nets_perm_generation (id, generation) VALUES (1, 0);
