-- The delegation agreement (委托协议, guide 5.3): its number and the fee fixed when it is sent.
ALTER TABLE application_case ADD COLUMN agreement_no TEXT;
ALTER TABLE application_case ADD COLUMN fee_fen BIGINT;
