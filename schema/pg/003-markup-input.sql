-- imgedit schema version 3: an input may be the edit's markup (a transparent
-- PNG overlaid on the first image, the API's `markup` part, never with a
-- mask): role 'markup', ordinal 0.
ALTER TABLE inputs DROP CONSTRAINT inputs_role_check,
    ADD CONSTRAINT inputs_role_check CHECK (role IN ('image','mask','markup'));
