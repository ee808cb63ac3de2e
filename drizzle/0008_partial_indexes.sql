DROP INDEX "inbox_done_idx";--> statement-breakpoint
DROP INDEX "outbox_card_idx";--> statement-breakpoint
CREATE INDEX "inbox_done_idx" ON "inbox" USING btree ("done_at") WHERE "inbox"."done_at" is not null;--> statement-breakpoint
CREATE INDEX "outbox_card_idx" ON "outbox" USING btree ("card_key") WHERE "outbox"."card_key" is not null;