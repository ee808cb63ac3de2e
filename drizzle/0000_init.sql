CREATE TABLE "answers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"flow_id" bigint NOT NULL,
	"step_id" text NOT NULL,
	"round" integer NOT NULL,
	"value" jsonb NOT NULL,
	"file_id" text,
	"file_unique_id" text,
	"message_id" integer,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bot_sessions" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flow_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"flow_id" bigint NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb,
	"actor_id" bigint,
	"actor_kind" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flows" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_id" bigint NOT NULL,
	"operator_id" bigint NOT NULL,
	"request_id" text NOT NULL,
	"definition" jsonb NOT NULL,
	"definition_hash" text NOT NULL,
	"snapshot" jsonb,
	"status" text NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"remind_at" timestamp with time zone,
	"expire_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invites" (
	"code" text PRIMARY KEY NOT NULL,
	"operator_id" bigint NOT NULL,
	"request_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_by" bigint,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"direction" text NOT NULL,
	"kind" text NOT NULL,
	"text" text,
	"file_id" text,
	"file_unique_id" text,
	"telegram_message_id" integer,
	"update_id" bigint,
	"flow_id" bigint,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"flow_id" bigint,
	"method" text NOT NULL,
	"payload" jsonb NOT NULL,
	"card_key" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"telegram_message_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "people" (
	"id" bigint PRIMARY KEY NOT NULL,
	"first_name" text DEFAULT '' NOT NULL,
	"last_name" text,
	"username" text,
	"language_code" text,
	"role" text DEFAULT 'client' NOT NULL,
	"operator_id" bigint,
	"started_at" timestamp with time zone,
	"blocked_at" timestamp with time zone,
	"nudged_at" timestamp with time zone,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processed_updates" (
	"update_id" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "answers" ADD CONSTRAINT "answers_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_events" ADD CONSTRAINT "flow_events_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flows" ADD CONSTRAINT "flows_client_id_people_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "answers_flow_idx" ON "answers" USING btree ("flow_id","step_id");--> statement-breakpoint
CREATE INDEX "flow_events_flow_idx" ON "flow_events" USING btree ("flow_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "flows_one_active_per_client" ON "flows" USING btree ("client_id") WHERE "flows"."status" in ('collecting', 'confirming', 'in_review', 'needs_operator');--> statement-breakpoint
CREATE INDEX "flows_client_idx" ON "flows" USING btree ("client_id","id");--> statement-breakpoint
CREATE INDEX "flows_status_idx" ON "flows" USING btree ("status");--> statement-breakpoint
CREATE INDEX "flows_remind_idx" ON "flows" USING btree ("remind_at") WHERE "flows"."remind_at" is not null;--> statement-breakpoint
CREATE INDEX "flows_expire_idx" ON "flows" USING btree ("expire_at") WHERE "flows"."expire_at" is not null;--> statement-breakpoint
CREATE INDEX "messages_chat_idx" ON "messages" USING btree ("chat_id","id");--> statement-breakpoint
CREATE INDEX "messages_flow_idx" ON "messages" USING btree ("flow_id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("chat_id","id") WHERE "outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_card_idx" ON "outbox" USING btree ("card_key");--> statement-breakpoint
CREATE INDEX "people_last_activity_idx" ON "people" USING btree ("last_activity_at");--> statement-breakpoint
CREATE INDEX "people_username_idx" ON "people" USING btree ("username");