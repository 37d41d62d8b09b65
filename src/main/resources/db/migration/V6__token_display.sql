-- The text :text matches on, kept on the token rows instead of rows of its own in idx_string
-- (1.4 of the ~12 index rows of a Synthea resource): the display of a Coding, or the text of a
-- CodeableConcept or of Identifier.type, lower case without accents, first 500 characters.
-- A text with no token row to carry it (a concept with text only, say) is a row with null
-- system and code under the parameter's text key ("Type.name:text"), so no other search sees it.
-- Byte order (collate "C") as idx_string.norm, so that a prefix is one range of values.
-- No index of its own: :text is rare, and scans the rows of the parameter's keys.
alter table idx_token add column display text collate "C";
