-- Whether a certificate's signed document is kept (`certificate_seal`), on the certificate's
-- own row (issue 14): the public check of a certificate (`/verify/{number}`, 5.5) reads one
-- row by its number and no second table to learn whether there is a signature to check. It
-- is kept by the trigger below, in the transaction that keeps or removes the document, so it
-- never says otherwise than `certificate_seal`. (A restore's COPY of `certificate_seal` fires
-- it too; a backup made before this column gets it from the backfill.)

ALTER TABLE certificate ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT false;

UPDATE certificate SET sealed = true WHERE id IN (SELECT certificate_id FROM certificate_seal);

CREATE FUNCTION certificate_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE certificate SET sealed = false WHERE id = OLD.certificate_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE certificate SET sealed = true WHERE id = NEW.certificate_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_sealed AFTER INSERT OR DELETE OR UPDATE OF certificate_id
    ON certificate_seal FOR EACH ROW EXECUTE FUNCTION certificate_sealed();
