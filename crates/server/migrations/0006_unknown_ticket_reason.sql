-- A code in the subject that is none of the sender's tickets is refused as `unknown_ticket`,
-- whether or not another customer's ticket has it ("foreign" told what it must not).
UPDATE mail_intake SET reason = 'unknown_ticket' WHERE reason = 'foreign_ticket';
