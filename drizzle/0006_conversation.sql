ALTER TABLE "messages" ADD COLUMN "talk_client_id" bigint;--> statement-breakpoint
ALTER TABLE "people" ADD COLUMN "talk_requested_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "messages_talk_idx" ON "messages" USING btree ("talk_client_id","id") WHERE "messages"."talk_client_id" is not null;