CREATE TABLE "api_requests" (
	"key" text PRIMARY KEY NOT NULL,
	"request_hash" text NOT NULL,
	"flow_id" bigint NOT NULL,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "erasures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_ref" text NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" bigint,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"counts" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "result_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"flow_id" bigint NOT NULL,
	"body" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "flows" ADD COLUMN "purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_requests" ADD CONSTRAINT "api_requests_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "result_deliveries" ADD CONSTRAINT "result_deliveries_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "result_deliveries_pending_idx" ON "result_deliveries" USING btree ("next_attempt_at") WHERE "result_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "result_deliveries_flow_idx" ON "result_deliveries" USING btree ("flow_id");--> statement-breakpoint
CREATE INDEX "flows_retention_idx" ON "flows" USING btree ("finished_at") WHERE "flows"."finished_at" is not null and "flows"."purged_at" is null;