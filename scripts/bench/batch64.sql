-- The row work of 64 case creates, as the cockpit writes them, with no application code:
-- the cases (every index of the schema), two timeline entries each, an audit record each,
-- and a live log entry each, numbered by the live log's counter row, in one transaction.
-- BENCHMARKS.md ("Why 5,000 creates/s is out of reach") runs it against a scratch database
-- that the server has migrated (a benchmark's leaves one), never a city's:
--   pgbench -n -f scripts/bench/batch64.sql -c 1 -j 1 -T 8 postgres://.../bench_api
-- The number of cases per second is pgbench's tps times 64. To see what the counter row
-- costs, replace the `h AS (UPDATE live_head ...)` line with
--   h AS (SELECT nextval('cases_id_seq') * 100 AS last)
-- which numbers the entries from a sequence instead (unique, not consecutive).
BEGIN;
WITH ids AS (SELECT nextval('cases_id_seq') AS id, g FROM generate_series(1, 64) g),
c AS (INSERT INTO cases (id, source_id, source_ref, category, urgency, tags, title, description, location,
        street_code, village_code, grid_code, address, reporter_masked, occurred_at, created_at, status, assignee,
        dispatch_rule, deadline_limit, started_at, warn_at, due_at, next_alarm_at, updated_at)
      SELECT id, 'hotline-12345', 'r' || id, 'city.appearance.litter', 'normal', '{}', '瓯海区娄桥街道垃圾堆放 ' || id,
        '居民反映娄桥街道某小区门口垃圾堆放多日无人清理，气味很大，请尽快处理。' || id,
        ST_SetSRID(ST_MakePoint(120.6 + random() * 0.05, 27.95 + random() * 0.05), 4326),
        '330304004', '330304004208', '330304004208001', '娄桥街道', '{"name":"张*","phone":"136****6666"}',
        now(), now(), 'dispatched', '{"department":"city-management"}', 'r1', '"P2D"', now(), now() + interval '1 day',
        now() + interval '2 day', now() + interval '2 day', now()
      FROM ids RETURNING id),
t AS (INSERT INTO case_timeline (case_id, at, actor_user, actor_role, action, from_status, to_status, content)
      SELECT id, now(), 'u', 'dispatcher', a, NULL, 'new', 'content of the entry' FROM c, (VALUES ('create'), ('auto_dispatch')) v(a)),
au AS (INSERT INTO audit_pending (at, actor, role, address, action, object, result, detail)
      SELECT now(), 'u', 'dispatcher', '127.0.0.1', 'case.create', 'case:' || id, 'ok', '{"status":"dispatched"}' FROM c),
h AS (UPDATE live_head SET last = last + 64 RETURNING last)
INSERT INTO live_log (seq, channel, key, regions, lon, lat, layer, assignee, payload)
  SELECT h.last - 64 + row_number() OVER (), 'cases', c.id::text, '{330304004,330304004208}', 120.6, 27.9, 'x', NULL,
    '{"id":1,"title":"瓯海区娄桥街道垃圾堆放","status":"dispatched","category":"city.appearance.litter","lon":120.6,"lat":27.9}'
  FROM c, h;
COMMIT;
