-- A command's write checks in the statement itself that it updated every flow it read (none moved since):
-- otherwise the statement fails with a serialization failure (40001), which the command retries. Checked in
-- SQL, the write can carry the transaction's COMMIT on the wire: a stale write rolls the transaction back.
CREATE FUNCTION "expect_updated"("expected" integer, "updated" integer) RETURNS integer
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF "updated" <> "expected" THEN
    RAISE EXCEPTION 'stale write: expected to update % flow(s), updated %', "expected", "updated"
      USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN "updated";
END
$$;
