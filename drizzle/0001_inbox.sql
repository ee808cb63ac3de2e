CREATE TABLE "inbox" (
	"update_id" bigint PRIMARY KEY NOT NULL,
	"chat_id" bigint,
	"payload" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "inbox_pending_idx" ON "inbox" USING btree ("chat_id","update_id") WHERE "inbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "inbox_done_idx" ON "inbox" USING btree ("done_at");