-- Up Migration

-- The archive of record for enriched posts. Every name is unqualified: the runner and every connection set
-- search_path to the archive's schema (ARCHIVE_SCHEMA, default `archive`), so one database can hold several archives
-- (the tests give each test its own schema).

-- One row per (platform, id), whatever its month: a partitioned table can only enforce keys that contain the
-- partition key, so identity lives here and `posts` takes a row only when its key was new (see writePosts).
CREATE TABLE post_keys (
  id text NOT NULL,
  platform text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (id, platform)
);
-- Retention deletes the keys of the months it drops.
CREATE INDEX post_keys_created_at ON post_keys (created_at);

CREATE TABLE posts (
  id text NOT NULL,
  platform text NOT NULL,
  created_at timestamptz NOT NULL,
  author_id text NOT NULL,
  author_name text,
  author_followers integer,
  author_verified boolean,
  text text NOT NULL,
  own_text text NOT NULL,
  url text,
  parent_id text,
  root_id text,
  region text,
  lang text,
  -- The analyzer's jieba tokens of the post's own words, in order (positions kept, so phrases can be searched),
  -- then its @mentions and [emoticons] as lexemes of their own; built by the writer, never re-parsed by PostgreSQL.
  tokens tsvector NOT NULL,
  keywords text[] NOT NULL,
  topics text[] NOT NULL,
  mentions text[] NOT NULL,
  emoticons text[] NOT NULL,
  urls text[] NOT NULL,
  schemes text[] NOT NULL,
  sentiment real NOT NULL,
  spam boolean NOT NULL,
  spam_reason text,
  received_at timestamptz,
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, platform, created_at)
) PARTITION BY RANGE (created_at);

-- What an analyst filters and pages by. Each is created on every monthly partition.
CREATE INDEX posts_created_at ON posts (created_at, id, platform);
CREATE INDEX posts_tokens ON posts USING gin (tokens);
CREATE INDEX posts_schemes ON posts USING gin (schemes);
CREATE INDEX posts_root_id ON posts (root_id, created_at) WHERE root_id IS NOT NULL;
CREATE INDEX posts_author ON posts (author_id, created_at);

-- Creates the monthly partitions (UTC months, 'YYYY-MM') that do not exist yet. Serialised by an advisory lock so
-- two writers meeting a new month at once do not race on CREATE TABLE.
CREATE FUNCTION ensure_post_partitions(months text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month text;
  created integer := 0;
  lower_bound timestamptz;
  upper_bound timestamptz;
BEGIN
  FOREACH month IN ARRAY months LOOP
    IF month !~ '^\d{4}-\d{2}$' THEN
      RAISE EXCEPTION 'month % is not YYYY-MM', month;
    END IF;
    IF to_regclass(format('%I.%I', current_schema(), 'posts_' || replace(month, '-', '_'))) IS NULL THEN
      PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.posts partitions'));
      IF to_regclass(format('%I.%I', current_schema(), 'posts_' || replace(month, '-', '_'))) IS NULL THEN
        -- Bounds from timestamps read as UTC, so the session's time zone cannot shift a month.
        lower_bound := (month || '-01')::timestamp AT TIME ZONE 'UTC';
        upper_bound := ((month || '-01')::date + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        EXECUTE format(
          'CREATE TABLE %I PARTITION OF posts FOR VALUES FROM (%L) TO (%L)',
          'posts_' || replace(month, '-', '_'), lower_bound, upper_bound);
        created := created + 1;
      END IF;
    END IF;
  END LOOP;
  RETURN created;
END
$$;

-- Down Migration
DROP FUNCTION ensure_post_partitions(text[]);
DROP TABLE posts;
DROP TABLE post_keys;
