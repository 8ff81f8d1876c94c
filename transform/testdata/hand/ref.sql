-- Territories of the hand-made fixture: communes 35001 (Alpha) and 35002
-- (Beta) in EPCI 200000001 and RPE R1 (département 35); commune 22001
-- (Gamma) in EPCI 200000002 and RPE R2 (département 22); both départements
-- in région 53. Old code 35999 merged into 35002.
INSERT INTO ref.territory VALUES
 ('commune', '35001', 'Alpha', 'epci', '200000001', 12000),
 ('commune', '35002', 'Beta', 'epci', '200000001', 3000),
 ('commune', '22001', 'Gamma', 'epci', '200000002', 2000),
 ('epci', '200000001', 'CC Alpha-Beta', 'departement', '35', 15000),
 ('epci', '200000002', 'CC Gamma', 'departement', '22', 2000),
 ('rpe', 'R1', 'RPE Alpha-Beta', 'departement', '35', NULL),
 ('rpe', 'R2', 'RPE Gamma', 'departement', '22', NULL),
 ('departement', '35', 'Ille-et-Vilaine', 'region', '53', 15000),
 ('departement', '22', 'Côtes-d''Armor', 'region', '53', 2000),
 ('region', '53', 'Bretagne', 'france', 'FR', 17000),
 ('france', 'FR', 'France', NULL, NULL, 17000);
INSERT INTO ref.commune_territory VALUES
 ('35001', 'commune', '35001'), ('35001', 'epci', '200000001'), ('35001', 'rpe', 'R1'), ('35001', 'departement', '35'), ('35001', 'region', '53'), ('35001', 'france', 'FR'),
 ('35002', 'commune', '35002'), ('35002', 'epci', '200000001'), ('35002', 'rpe', 'R1'), ('35002', 'departement', '35'), ('35002', 'region', '53'), ('35002', 'france', 'FR'),
 ('22001', 'commune', '22001'), ('22001', 'epci', '200000002'), ('22001', 'rpe', 'R2'), ('22001', 'departement', '22'), ('22001', 'region', '53'), ('22001', 'france', 'FR');
INSERT INTO ref.commune_merge VALUES ('35999', '35002');
