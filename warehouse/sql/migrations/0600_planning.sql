-- Planning marts: what today's cameras cover, and ranked sites for the next cameras.
-- coverage_kelurahan: one row per kelurahan and demand layer (population, flood_2024, flood_2017,
-- fire_2024, jaki_complaints, jaki_panic, crowd, hospital, floodgate, composite) for the camera
-- inventory at the time of the run; demand in the layer's natural unit (composite: weighted share).
CREATE TABLE coverage_kelurahan (
    kode_kelurahan VARCHAR, nama_kelurahan VARCHAR, layer VARCHAR, demand DOUBLE, covered DOUBLE,
    covered_share DOUBLE, radius_m DOUBLE, cell_m DOUBLE, run_id VARCHAR, computed_at TIMESTAMPTZ
);
-- placement_candidates: ranked sites of the latest placement run (history via lake snapshots).
-- gain_total = weighted share of Jakarta's demand newly covered; gain_<layer> in natural units.
CREATE TABLE placement_candidates (
    rank INTEGER, site_id VARCHAR, lat DOUBLE, lon DOUBLE, kode_kelurahan VARCHAR, nama_kelurahan VARCHAR,
    nama_kecamatan VARCHAR, nama_kota VARCHAR, cell_id VARCHAR, gain_total DOUBLE, gain_population DOUBLE,
    gain_flood_2024 DOUBLE, gain_flood_2017 DOUBLE, gain_fire_2024 DOUBLE, gain_jaki_complaints DOUBLE,
    gain_jaki_panic DOUBLE, gain_crowd DOUBLE, gain_hospital DOUBLE, gain_floodgate DOUBLE, reason VARCHAR,
    reason_en VARCHAR, method VARCHAR, budget INTEGER, radius_m DOUBLE, objective DOUBLE, upper_bound DOUBLE,
    optimal BOOLEAN, run_id VARCHAR, created_at TIMESTAMPTZ
);
