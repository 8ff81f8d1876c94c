-- Hand-made fixture, part 1: yearly sources, registers, and the months
-- 2025-01 to 2025-03 (files 1 to 12). Part 2 adds April and May.
-- See expected.txt for the values computed by hand from these rows.

INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, rows_read, rows_loaded, rows_rejected, loaded_at) VALUES
 (1, 'population.csv', 'h1', 'population', 'INSEE', '2025', 5, 5, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (2, 'collective.csv', 'h2', 'collective_places', 'CAF', '2024', 3, 3, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (3, 'rpe.csv', 'h3', 'rpe_register', 'CAF', '', 2, 2, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (4, 'txcouv.csv', 'h4', 'caf_rate', 'CAF', '2024', 8, 8, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (5, 'am35-01.csv', 'h5', 'am_register', '35', '2025-01', 6, 6, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (6, 'am22-01.csv', 'h6', 'am_register', '22', '2025-01', 2, 2, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (7, 'am35-03.csv', 'h7', 'am_register', '35', '2025-03', 7, 7, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (8, 'dispo-01.csv', 'h8', 'availability', 'CAF', '2025-01', 9, 9, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (9, 'dispo-02.csv', 'h9', 'availability', 'CAF', '2025-02', 9, 9, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (10, 'dispo-03.csv', 'h10', 'availability', 'CAF', '2025-03', 10, 10, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (11, 'demandes-03.csv', 'h11', 'family_request', 'R1', '2025-03', 1, 1, 0, TIMESTAMP '2025-06-01 00:00:00'),
 (12, 'activite-03.csv', 'h12', 'rpe_activity', 'R1', '2025-03', 1, 1, 0, TIMESTAMP '2025-06-01 00:00:00');

-- Children under 3: Alpha 40 (2024) then 50 (2025); Beta 15 + 5 under the
-- merged old code 35999 = 20 (2024 only); Gamma 10.5 (2024 only).
INSERT INTO raw.population VALUES
 ('35001', 2024, 40, 12, 1, 2), ('35001', 2025, 50, 15, 1, 3),
 ('35002', 2024, 15, 5, 1, 4), ('35999', 2024, 5, 1, 1, 5),
 ('22001', 2024, 10.5, 4, 1, 6);

INSERT INTO raw.collective_places VALUES
 ('35001', 2024, 10, 2, 1, 1, 20, 2, 2),
 ('35002', 2024, 0, 0, 2, 0, 5, 2, 3),
 ('22001', 2024, 3, 0, 0, 0, 7, 2, 4);

INSERT INTO raw.rpe_register VALUES
 ('R1', 'RPE Alpha-Beta', 'epci', ['35001', '35002'], 0.5, ['guichet_unique'], 3, 2),
 ('R2', 'RPE Gamma', 'commune', ['22001'], 0.2, [], 3, 3);

-- Official rates: département 35 gives PSU and hors PSU separately (EAJE =
-- 18.0 + 3.5 = 21.5); France gives EAJE; commune 35001 a total only.
INSERT INTO raw.caf_rate VALUES
 ('departement', '35', 2023, 'total', 60.1, 4, 2), ('departement', '35', 2023, 'am', 30.2, 4, 3),
 ('departement', '35', 2023, 'eaje_psu', 18.0, 4, 4), ('departement', '35', 2023, 'eaje_hors_psu', 3.5, 4, 5),
 ('france', 'FR', 2023, 'total', 60.9, 4, 6), ('france', 'FR', 2023, 'am', 31.9, 4, 7),
 ('france', 'FR', 2023, 'eaje', 23.5, 4, 8), ('commune', '35001', 2024, 'total', 55.5, 4, 9);

-- Register snapshots. Département 35 sends January and March (January is
-- carried to February); département 22 sends January only (carried on).
-- am3's approval ends on 2025-03-15 (known from the March snapshot); am8 is
-- approved on 2025-04-10; am9 is suspended.
INSERT INTO raw.am_register VALUES
 (DATE '2025-01-01', 'am1', '35001', false, DATE '2010-05-01', NULL, 'active', 4, 3, 1960, 5, 2),
 (DATE '2025-01-01', 'am2', '35001', false, DATE '2015-01-01', NULL, 'active', 3, NULL, 1970, 5, 3),
 (DATE '2025-01-01', 'am3', '35001', false, DATE '2020-01-01', NULL, 'active', 2, NULL, 1990, 5, 4),
 (DATE '2025-01-01', 'am4', '35002', true, DATE '2018-01-01', NULL, 'active', 4, 2, 1966, 5, 5),
 (DATE '2025-01-01', 'am5', '35002', false, DATE '2024-12-01', NULL, 'active', 2, NULL, 1998, 5, 6),
 (DATE '2025-01-01', 'am6', '22001', false, DATE '2000-01-01', NULL, 'active', 4, 4, 1963, 6, 2),
 (DATE '2025-01-01', 'am7', '22001', false, DATE '2012-01-01', NULL, 'active', 3, NULL, 1975, 6, 3),
 (DATE '2025-03-01', 'am1', '35001', false, DATE '2010-05-01', NULL, 'active', 4, 3, 1960, 7, 2),
 (DATE '2025-03-01', 'am2', '35001', false, DATE '2015-01-01', NULL, 'active', 3, NULL, 1970, 7, 3),
 (DATE '2025-03-01', 'am3', '35001', false, DATE '2020-01-01', DATE '2025-03-15', 'active', 2, NULL, 1990, 7, 4),
 (DATE '2025-03-01', 'am4', '35002', true, DATE '2018-01-01', NULL, 'active', 4, 2, 1966, 7, 5),
 (DATE '2025-03-01', 'am5', '35002', false, DATE '2024-12-01', NULL, 'active', 2, NULL, 1998, 7, 6),
 (DATE '2025-03-01', 'am8', '35001', false, DATE '2025-04-10', NULL, 'active', 1, 1, 1980, 7, 7),
 (DATE '2025-03-01', 'am9', '35002', false, DATE '2019-01-01', NULL, 'suspended', 3, NULL, 1985, 7, 8);

-- q8: received in March, pending in the March file; the April file brings
-- its answer (part 2).
INSERT INTO raw.family_request VALUES
 (DATE '2025-03-01', 'q8', 'R1', '35001', DATE '2025-03-20', 9, NULL, false, false, 'am', NULL, 'pending', NULL, 11, 2);

INSERT INTO raw.rpe_activity VALUES
 (DATE '2025-03-01', 'R1', DATE '2025-03-15', 'atelier', NULL, NULL, '35001', 2, 3, NULL, ['am1', 'am3'], 12, 2);

INSERT INTO raw.availability (month, am_id, commune, declared_on, children_cared, places_available, available_from, age_bracket, before_7h, after_20h, saturday, sunday, night, after_school, wednesday, holidays, disability, occasional, file_id, line) VALUES
 (DATE '2025-01-01', 'am1', '35001', DATE '2024-12-01', 4, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 8, 2),
 (DATE '2025-02-01', 'am1', '35001', DATE '2024-12-01', 4, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 9, 2),
 (DATE '2025-03-01', 'am1', '35001', DATE '2024-12-01', 4, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 10, 2),
 (DATE '2025-01-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-01-01', 'under18m', false, false, false, false, false, false, false, false, false, false, 8, 3),
 (DATE '2025-01-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-01-01', '18m_3y', false, false, false, false, false, false, false, false, false, false, 8, 4),
 (DATE '2025-02-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-02-01', 'under18m', false, false, false, false, false, false, false, false, false, false, 9, 3),
 (DATE '2025-02-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-02-01', '18m_3y', false, false, false, false, false, false, false, false, false, false, 9, 4),
 (DATE '2025-03-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-03-01', 'under18m', false, false, false, false, false, false, false, false, false, false, 10, 3),
 (DATE '2025-03-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-03-01', '18m_3y', false, false, false, false, false, false, false, false, false, false, 10, 4),
 (DATE '2025-01-01', 'am3', '35001', DATE '2024-06-01', 0, 2, DATE '2025-01-01', 'all', false, false, false, false, false, false, false, false, false, false, 8, 5),
 (DATE '2025-02-01', 'am3', '35001', DATE '2024-06-01', 0, 2, DATE '2025-02-01', 'all', false, false, false, false, false, false, false, false, false, false, 9, 5),
 (DATE '2025-03-01', 'am3', '35001', DATE '2024-06-01', 0, 2, DATE '2025-03-01', 'all', false, false, false, false, false, false, false, false, false, false, 10, 5),
 (DATE '2025-01-01', 'am4', '35002', DATE '2024-10-01', 2, 0, NULL, '18m_3y', false, false, false, false, false, false, false, false, true, false, 8, 6),
 (DATE '2025-02-01', 'am4', '35002', DATE '2025-02-01', 2, 1, DATE '2025-02-01', '18m_3y', false, false, false, false, false, false, false, false, true, false, 9, 6),
 (DATE '2025-03-01', 'am4', '35002', DATE '2025-02-01', 2, 1, DATE '2025-03-01', '18m_3y', false, false, false, false, false, false, false, false, true, false, 10, 6),
 (DATE '2025-01-01', 'am5', '35002', NULL, 0, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 8, 7),
 (DATE '2025-02-01', 'am5', '35002', NULL, 0, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 9, 7),
 (DATE '2025-03-01', 'am5', '35002', NULL, 1, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 10, 7),
 (DATE '2025-01-01', 'am6', '22001', DATE '2025-01-10', 3, 1, DATE '2025-01-01', 'over3y', false, true, false, false, false, false, false, false, false, false, 8, 8),
 (DATE '2025-02-01', 'am6', '22001', DATE '2025-01-10', 3, 1, DATE '2025-02-01', 'over3y', false, true, false, false, false, false, false, false, false, false, 9, 8),
 (DATE '2025-03-01', 'am6', '22001', DATE '2025-01-10', 3, 1, DATE '2025-03-01', 'over3y', false, true, false, false, false, false, false, false, false, false, 10, 8),
 (DATE '2025-01-01', 'am7', '22001', NULL, 3, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 8, 9),
 (DATE '2025-02-01', 'am7', '22001', NULL, 3, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 9, 9),
 (DATE '2025-03-01', 'am7', '22001', NULL, 3, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 10, 9),
 (DATE '2025-03-01', 'am9', '35002', DATE '2025-03-01', 2, 1, DATE '2025-03-01', 'all', false, false, false, false, false, false, false, false, false, false, 10, 10);
