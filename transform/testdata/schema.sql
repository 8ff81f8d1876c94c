-- Tables ingest creates in production (docs/raw.md, docs/warehouse.md),
-- created here for the transform tests only.
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE IF NOT EXISTS ref.territory (level VARCHAR, code VARCHAR, name VARCHAR, parent_level VARCHAR, parent_code VARCHAR, population BIGINT);
CREATE TABLE IF NOT EXISTS ref.commune_territory (commune VARCHAR, level VARCHAR, code VARCHAR);
CREATE TABLE IF NOT EXISTS ref.commune_merge (old_code VARCHAR, code VARCHAR);

CREATE TABLE IF NOT EXISTS raw.population (commune VARCHAR, year INTEGER, children_0_2 DOUBLE, births INTEGER, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.am_register (snapshot_month DATE, am_id VARCHAR, commune VARCHAR, in_mam BOOLEAN, approval_date DATE, end_date DATE, status VARCHAR, places INTEGER, places_under3 INTEGER, birth_year INTEGER, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.availability (month DATE, am_id VARCHAR, commune VARCHAR, declared_on DATE, children_cared INTEGER, places_available INTEGER, available_from DATE, age_bracket VARCHAR, before_7h BOOLEAN, after_20h BOOLEAN, saturday BOOLEAN, sunday BOOLEAN, night BOOLEAN, after_school BOOLEAN, wednesday BOOLEAN, holidays BOOLEAN, disability BOOLEAN, occasional BOOLEAN, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.rpe_register (rpe_id VARCHAR, name VARCHAR, manager_type VARCHAR, communes VARCHAR[], fte DOUBLE, reinforced VARCHAR[], file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.rpe_activity (month DATE, rpe_id VARCHAR, event_date DATE, kind VARCHAR, public VARCHAR, topic VARCHAR, commune VARCHAR, n_am INTEGER, n_children INTEGER, n_parents INTEGER, participants VARCHAR[], file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.family_request (month DATE, request_id VARCHAR, rpe_id VARCHAR, commune VARCHAR, received_on DATE, child_age_months INTEGER, wanted_start DATE, atypical_hours BOOLEAN, disability BOOLEAN, wanted_mode VARCHAR, first_answer_on DATE, outcome VARCHAR, outcome_on DATE, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.collective_places (commune VARCHAR, year INTEGER, eaje_psu INTEGER, eaje_hors_psu INTEGER, ecole_2ans INTEGER, home_carer INTEGER, am_caf INTEGER, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.caf_rate (level VARCHAR, code VARCHAR, year INTEGER, mode VARCHAR, rate DOUBLE, file_id BIGINT, line BIGINT);
CREATE TABLE IF NOT EXISTS raw.drees (table_id VARCHAR, departement VARCHAR, year INTEGER, value DOUBLE, file_id BIGINT, line BIGINT);

CREATE TABLE IF NOT EXISTS meta.file_ledger (file_id BIGINT, path VARCHAR, sha256 VARCHAR, source VARCHAR, sender VARCHAR, period VARCHAR, profile VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, loaded_at TIMESTAMP, replaced_by BIGINT);
CREATE TABLE IF NOT EXISTS meta.quarantine (file_id BIGINT, line BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR);
