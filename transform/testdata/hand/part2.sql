-- Hand-made fixture, part 2: April and May 2025 (files 13 to 17).

INSERT INTO meta.file_ledger (file_id, path, sha256, source, sender, period, rows_read, rows_loaded, rows_rejected, loaded_at) VALUES
 (13, 'dispo-04.csv', 'h13', 'availability', 'CAF', '2025-04', 10, 10, 0, TIMESTAMP '2025-06-02 00:00:00'),
 (14, 'dispo-05.csv', 'h14', 'availability', 'CAF', '2025-05', 10, 10, 0, TIMESTAMP '2025-06-02 00:00:00'),
 (15, 'demandes-04.csv', 'h15', 'family_request', 'R1', '2025-04', 9, 9, 0, TIMESTAMP '2025-06-02 00:00:00'),
 (16, 'activite-04.csv', 'h16', 'rpe_activity', 'R1', '2025-04', 13, 13, 0, TIMESTAMP '2025-06-02 00:00:00'),
 (17, 'activite-05.csv', 'h17', 'rpe_activity', 'R1', '2025-05', 1, 1, 0, TIMESTAMP '2025-06-02 00:00:00');

-- Requests received in April (q1..q7 through R1, q9 through R2) and the
-- update of q8 (received in March, answered on 2025-03-25, found a crèche).
INSERT INTO raw.family_request VALUES
 (DATE '2025-04-01', 'q1', 'R1', '35001', DATE '2025-04-02', 6, DATE '2025-09-01', true, false, 'am', DATE '2025-04-05', 'none', DATE '2025-04-30', 15, 2),
 (DATE '2025-04-01', 'q2', 'R1', '35001', DATE '2025-04-10', 20, NULL, false, true, 'am', DATE '2025-04-20', 'none', DATE '2025-04-30', 15, 3),
 (DATE '2025-04-01', 'q3', 'R1', '35001', DATE '2025-04-15', 10, DATE '2025-05-15', false, false, 'any', DATE '2025-04-16', 'found_am', DATE '2025-04-25', 15, 4),
 (DATE '2025-04-01', 'q4', 'R1', '35002', DATE '2025-04-03', 30, DATE '2025-10-03', false, false, 'am', DATE '2025-04-11', 'none', DATE '2025-04-30', 15, 5),
 (DATE '2025-04-01', 'q5', 'R1', '35002', DATE '2025-04-20', 8, NULL, false, false, 'creche', NULL, 'pending', NULL, 15, 6),
 (DATE '2025-04-01', 'q6', 'R1', '35002', DATE '2025-04-25', 14, DATE '2025-06-25', false, true, 'am', DATE '2025-05-10', 'none', DATE '2025-05-20', 15, 7),
 (DATE '2025-04-01', 'q7', 'R1', '35001', DATE '2025-04-28', 2, NULL, false, false, 'any', NULL, 'withdrawn', DATE '2025-04-29', 15, 8),
 (DATE '2025-04-01', 'q9', 'R2', '22001', DATE '2025-04-07', 40, NULL, false, true, 'am', DATE '2025-04-09', 'none', DATE '2025-04-30', 15, 9),
 (DATE '2025-04-01', 'q8', 'R1', '35001', DATE '2025-03-20', 9, NULL, false, false, 'am', DATE '2025-03-25', 'found_creche', DATE '2025-04-02', 15, 10);

INSERT INTO raw.rpe_activity VALUES
 (DATE '2025-04-01', 'R1', DATE '2025-04-03', 'contact_phone', 'parent', 'search', '35001', NULL, NULL, 1, NULL, 16, 2),
 (DATE '2025-04-01', 'R1', DATE '2025-04-04', 'contact_email', 'am', 'contract', '35002', 1, NULL, NULL, NULL, 16, 3),
 (DATE '2025-04-01', 'R1', DATE '2025-04-07', 'contact_in_person', 'parent', 'employer', '35001', NULL, NULL, 1, NULL, 16, 4),
 (DATE '2025-04-01', 'R1', DATE '2025-04-08', 'appointment', 'parent', 'search', NULL, NULL, NULL, 2, NULL, 16, 5),
 (DATE '2025-04-01', 'R1', DATE '2025-04-09', 'contact_phone', 'partner', 'other', '35002', NULL, NULL, NULL, NULL, 16, 6),
 (DATE '2025-04-01', 'R1', DATE '2025-04-10', 'contact_phone', 'home_carer', 'conflict', '35001', NULL, NULL, NULL, NULL, 16, 7),
 (DATE '2025-04-01', 'R1', DATE '2025-04-11', 'contact_email', 'am', 'training', '35001', 1, NULL, NULL, NULL, 16, 8),
 (DATE '2025-04-01', 'R1', DATE '2025-04-14', 'contact_phone', 'am', 'profession', '35001', 1, NULL, NULL, NULL, 16, 9),
 (DATE '2025-04-01', 'R1', DATE '2025-04-15', 'atelier', NULL, NULL, '35001', 2, 5, NULL, ['am1', 'am2'], 16, 10),
 (DATE '2025-04-01', 'R1', DATE '2025-04-22', 'collective_time', NULL, NULL, '35002', 2, 4, NULL, ['am2', 'am4'], 16, 11),
 (DATE '2025-04-01', 'R1', DATE '2025-04-24', 'training', NULL, 'training', '35001', 3, NULL, NULL, ['am1', 'am5'], 16, 12),
 (DATE '2025-04-01', 'R1', DATE '2025-04-25', 'training', NULL, 'training', '35002', 3, NULL, NULL, [], 16, 13),
 (DATE '2025-04-01', 'R1', DATE '2025-04-28', 'permanence', NULL, NULL, '35001', NULL, NULL, NULL, NULL, 16, 14),
 (DATE '2025-04-01', 'R1', DATE '2025-04-30', 'meeting', 'partner', NULL, '35001', NULL, NULL, NULL, NULL, 16, 15),
 (DATE '2025-05-01', 'R1', DATE '2025-05-06', 'atelier', NULL, NULL, '35002', 2, 3, NULL, ['am4', 'am5'], 17, 2);

INSERT INTO raw.availability (month, am_id, commune, declared_on, children_cared, places_available, available_from, age_bracket, before_7h, after_20h, saturday, sunday, night, after_school, wednesday, holidays, disability, occasional, file_id, line) VALUES
 (DATE '2025-04-01', 'am1', '35001', DATE '2024-12-01', 4, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 13, 2),
 (DATE '2025-05-01', 'am1', '35001', DATE '2024-12-01', 4, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 14, 2),
 (DATE '2025-04-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-04-01', 'under18m', false, false, false, false, false, false, false, false, false, false, 13, 3),
 (DATE '2025-04-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-04-01', '18m_3y', false, false, false, false, false, false, false, false, false, false, 13, 4),
 (DATE '2025-05-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-05-01', 'under18m', false, false, false, false, false, false, false, false, false, false, 14, 3),
 (DATE '2025-05-01', 'am2', '35001', DATE '2024-12-15', 1, 2, DATE '2025-05-01', '18m_3y', false, false, false, false, false, false, false, false, false, false, 14, 4),
 (DATE '2025-04-01', 'am4', '35002', DATE '2025-02-01', 2, 1, DATE '2025-04-01', '18m_3y', false, false, false, false, false, false, false, false, true, false, 13, 5),
 (DATE '2025-05-01', 'am4', '35002', DATE '2025-02-01', 2, 1, DATE '2025-05-01', '18m_3y', false, false, false, false, false, false, false, false, true, false, 14, 5),
 (DATE '2025-04-01', 'am5', '35002', NULL, 1, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 13, 6),
 (DATE '2025-05-01', 'am5', '35002', NULL, 1, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 14, 6),
 (DATE '2025-04-01', 'am6', '22001', DATE '2025-01-10', 3, 1, DATE '2025-04-01', 'over3y', false, true, false, false, false, false, false, false, false, false, 13, 7),
 (DATE '2025-05-01', 'am6', '22001', DATE '2025-01-10', 3, 1, DATE '2025-05-01', 'over3y', false, true, false, false, false, false, false, false, false, false, 14, 7),
 (DATE '2025-04-01', 'am7', '22001', NULL, 3, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 13, 8),
 (DATE '2025-05-01', 'am7', '22001', NULL, 3, 0, NULL, NULL, false, false, false, false, false, false, false, false, false, false, 14, 8),
 (DATE '2025-04-01', 'am9', '35002', DATE '2025-03-01', 2, 1, DATE '2025-04-01', 'all', false, false, false, false, false, false, false, false, false, false, 13, 9),
 (DATE '2025-05-01', 'am9', '35002', DATE '2025-03-01', 2, 1, DATE '2025-05-01', 'all', false, false, false, false, false, false, false, false, false, false, 14, 9);
