-- Whether a certificate's signed document is kept (`certificate_seal`), on the certificate's
-- own row (issue 14): the public check of a certificate (`/verify/{number}`, 5.5) reads one
-- row by its number and no second table to learn whether there is a signature to check. It
-- is kept by the triggers below, in the transaction that keeps or removes the document, so it
-- never says otherwise than `certificate_seal`.

ALTER TABLE certificate ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT 0;

UPDATE certificate SET sealed = 1 WHERE id IN (SELECT certificate_id FROM certificate_seal);

CREATE TRIGGER certificate_sealed_insert AFTER INSERT ON certificate_seal
BEGIN UPDATE certificate SET sealed = 1 WHERE id = NEW.certificate_id; END;
CREATE TRIGGER certificate_sealed_update AFTER UPDATE OF certificate_id ON certificate_seal
BEGIN
    UPDATE certificate SET sealed = 0 WHERE id = OLD.certificate_id;
    UPDATE certificate SET sealed = 1 WHERE id = NEW.certificate_id;
END;
CREATE TRIGGER certificate_sealed_delete AFTER DELETE ON certificate_seal
BEGIN UPDATE certificate SET sealed = 0 WHERE id = OLD.certificate_id; END;
