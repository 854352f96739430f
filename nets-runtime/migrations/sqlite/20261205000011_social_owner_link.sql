-- SQLite. Keep equivalent to ../postgres/.
-- nets built-in tables, part 11: identities their account's signed-in owner linked
-- (`POST /linkSocial/`). They are the owner's word, so a code login that proves the
-- address keeps them, even when the provider does not vouch for the address.
ALTER TABLE nets_social_account ADD COLUMN linked_by_owner BOOLEAN NOT NULL DEFAULT 0;
