-- Update ids recorded before the inbox existed stay recorded: a re-delivery of one of them is still refused.
INSERT INTO "inbox" ("update_id", "status", "done_at", "received_at")
SELECT "update_id", 'done', "at", "at" FROM "processed_updates"
ON CONFLICT ("update_id") DO NOTHING;
