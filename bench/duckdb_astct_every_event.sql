-- ASTCT 2019 CRS grading, hand-written in DuckDB SQL: the benchmark's reference implementation.
--
-- Citation: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
-- syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
-- Transplant 2019;25(4):625-638 (CRS grading table and footnotes), with the interpretations
-- numbered in src/crswatch/scales/astct2019.py and the state rules of
-- docs/decisions/0005-state-engine.md.  Written from those texts, not generated from our code;
-- tests/bench/test_duckdb_reference.py checks that its grades equal crswatch's row for row.
--
-- Input: two views the runner (bench/_duckdb_astct.py) creates over the same Parquet shards
-- crswatch reads: events_raw (crswatch.timeline/1 events table: patient_id, time, item, value
-- as text, end, cause, ...) and patients_raw (id, age_years, birth_date, therapy_start, ...).
-- Values must be in the canonical unit of their item (the runner checks; the simulator writes
-- them so); this reference does no unit conversion.
-- Output: table astct_grades(patient_id, at, grade, status, lower, upper), one row per
-- evaluation time (the time column is ts inside, since AT is a keyword of DuckDB's grammar).
--
-- Semantics (the same as crswatch's, each stated where it is used):
--   * evaluation times: every event time and end, the moment each temperature and SBP leaves its
--     24 h window (time + 24 h + 1 us, reported at time + 24 h; of two instants reported at one
--     time the later is kept), and the therapy start, none after the record's last event (or the
--     therapy start if later) (decision 0005 §2, 0009 §4, 0030 §2);
--   * windows are closed at both ends, [T - 24 h, T]: RANGE ... PRECEDING AND CURRENT ROW is
--     closed at both ends in DuckDB and includes every row at T (research/ecosystem.md §3.1);
--   * "running at T": the last event of the drug or device at or before T, not yet ended
--     (start <= T < end); a rate of 0 or the device room_air stops it (0005 §4);
--   * cause = 'other' excludes an event from fever, hypotension, vasopressors and oxygen (0005 §5);
--   * before CRS is established (an attributable fever >= 38.0 °C at or after the therapy start,
--     or the fever waiver) the grade is 0, or not assessable with no temperature in the window
--     (the CRS-context rule, decisions 0023 and 0061);
--   * SQL's three-valued logic is the Kleene logic of crswatch's criteria: NULL = cannot tell.

-- Events with the value typed.  Attributable unless charted as caused by something else.
CREATE OR REPLACE TEMP TABLE ev AS
SELECT
    patient_id,
    "time" AS t,
    item,
    TRY_CAST(value AS DOUBLE) AS num,
    value AS code,
    "end" AS t_end,
    coalesce(cause, '') <> 'other' AS attributable
FROM events_raw;

CREATE OR REPLACE TEMP TABLE pat AS
SELECT
    id AS patient_id,
    CAST(age_years AS DOUBLE) AS age_years,
    TRY_CAST(birth_date AS DATE) AS birth_date,
    therapy_start
FROM patients_raw;

-- Evaluation times (see the header): the instant evaluated (ts) and the time reported.
CREATE OR REPLACE TEMP TABLE horizon AS
SELECT p.patient_id, greatest(coalesce(max(e.t), p.therapy_start), p.therapy_start) AS until_t
FROM pat p LEFT JOIN ev e USING (patient_id)
GROUP BY p.patient_id, p.therapy_start;

-- A child's age (whole days / 365.25 from the birth date) changes at a UTC midnight, and the
-- hypotension threshold with it: evaluated there, as crswatch does (docs/decisions/0065).
CREATE OR REPLACE TEMP TABLE birthdays AS
WITH span AS (
    SELECT p.patient_id, p.birth_date, h.until_t,
           least(coalesce(min(e.t), p.therapy_start), p.therapy_start) AS first_t
    FROM pat p JOIN horizon h USING (patient_id) LEFT JOIN ev e USING (patient_id)
    WHERE p.birth_date IS NOT NULL
    GROUP BY p.patient_id, p.birth_date, p.therapy_start, h.until_t
),
days AS (
    SELECT patient_id, birth_date,
        CAST(unnest(generate_series(CAST(first_t AS DATE) + 1, CAST(until_t AS DATE),
                                    INTERVAL 1 DAY)) AS DATE) AS day
    FROM span
)
SELECT patient_id, CAST(day AS TIMESTAMPTZ) AS b
FROM days
WHERE floor((day - birth_date) / 365.25) <> floor((day - 1 - birth_date) / 365.25);

CREATE OR REPLACE TEMP TABLE eval_times AS
SELECT x.patient_id, x.ts, max(x.reported) AS reported FROM (
    SELECT patient_id, t AS ts, t AS reported FROM ev
    UNION ALL
    SELECT patient_id, t_end, t_end FROM ev WHERE t_end IS NOT NULL
    UNION ALL
    SELECT patient_id, t + INTERVAL 24 HOUR + INTERVAL 1 MICROSECOND, t + INTERVAL 24 HOUR
    FROM ev WHERE item IN ('temperature', 'sbp')
    UNION ALL
    SELECT patient_id, therapy_start, therapy_start FROM pat
    UNION ALL
    SELECT patient_id, b, b FROM birthdays
) x JOIN horizon h ON x.patient_id = h.patient_id
WHERE x.ts <= h.until_t
GROUP BY x.patient_id, x.ts;

-- Fever and hypotension: the highest attributable temperature and the lowest attributable SBP in
-- [T - 24 h, T].  Readings and evaluation times are stacked and one range window runs over them
-- (a range join would pair every T with its ~300 readings at 5-minute vitals).
CREATE OR REPLACE TEMP TABLE vital_windows AS
WITH stacked AS (
    -- A reading charted with another cause is measured but not counted (decision 0026 §5).
    SELECT patient_id, t AS ts, item, CASE WHEN attributable THEN num END AS num,
           CASE WHEN attributable THEN 0 ELSE 1 END AS other, FALSE AS is_time
    FROM ev WHERE item IN ('temperature', 'sbp') AND num IS NOT NULL
    UNION ALL
    SELECT e.patient_id, e.ts, v.item, NULL, 0, TRUE
    FROM eval_times e CROSS JOIN (VALUES ('temperature'), ('sbp')) v(item)
),
rolled AS (
    SELECT
        patient_id, ts, item, is_time,
        max(num) OVER w AS max_num,
        min(num) OVER w AS min_num,
        sum(other) OVER w AS other_n
    FROM stacked
    WINDOW w AS (
        PARTITION BY patient_id, item ORDER BY ts
        RANGE BETWEEN INTERVAL 24 HOUR PRECEDING AND CURRENT ROW
    )
)
SELECT
    patient_id, ts,
    max(max_num) FILTER (WHERE item = 'temperature') AS temp_max_c,
    min(min_num) FILTER (WHERE item = 'sbp') AS sbp_min,
    max(other_n) FILTER (WHERE item = 'temperature') AS temp_other_n,
    max(other_n) FILTER (WHERE item = 'sbp') AS sbp_other_n
FROM rolled
WHERE is_time
GROUP BY patient_id, ts;

-- CRS onset: the first attributable temperature >= 38.0 °C at or after the therapy start.
-- Waiver (ASTCT fever footnote): the first anti-cytokine (tocilizumab, siltuximab, anakinra) or
-- corticosteroid dose at or after onset, whatever it was given for; antipyretics do not waive
-- (discrepancy D2, the default).
CREATE OR REPLACE TEMP TABLE onset AS
SELECT e.patient_id, min(e.t) AS onset_t
FROM ev e JOIN pat p USING (patient_id)
WHERE e.item = 'temperature' AND e.attributable AND e.num >= 38.0 AND e.t >= p.therapy_start
GROUP BY e.patient_id;

CREATE OR REPLACE TEMP TABLE waiver AS
SELECT e.patient_id, min(e.t) AS waiver_t
FROM ev e JOIN onset o USING (patient_id)
WHERE e.item IN ('tocilizumab', 'siltuximab', 'anakinra',
                 'dexamethasone', 'methylprednisolone', 'hydrocortisone', 'prednisone')
  AND e.t >= o.onset_t
GROUP BY e.patient_id;

-- Vasopressors running at T: the last attributable event of each drug at or before T.
CREATE OR REPLACE TEMP TABLE pressor_at AS
WITH wanted AS (
    SELECT e.patient_id, e.ts, d.item
    FROM eval_times e CROSS JOIN (VALUES ('norepinephrine'), ('epinephrine'), ('phenylephrine'),
                                         ('dopamine'), ('vasopressin')) d(item)
),
latest AS (
    SELECT w.patient_id, w.ts, w.item, x.num, x.t_end
    FROM wanted w
    ASOF LEFT JOIN (SELECT * FROM ev WHERE attributable AND item IN (
        'norepinephrine', 'epinephrine', 'phenylephrine', 'dopamine', 'vasopressin')) x
    ON w.patient_id = x.patient_id AND w.item = x.item AND w.ts >= x.t
)
SELECT
    patient_id, ts,
    -- ASTCT interpretation 3: vasopressin never counts toward "multiple vasopressors".
    count(*) FILTER (WHERE item <> 'vasopressin' AND rate > 0) AS pressors_excl_vasopressin,
    count(*) FILTER (WHERE rate > 0) AS pressors_running
FROM (
    SELECT patient_id, ts, item,
           CASE WHEN t_end IS NULL OR t_end > ts THEN coalesce(num, 0) ELSE 0 END AS rate
    FROM latest
)
GROUP BY patient_id, ts;

-- Oxygen at T: the last attributable device at or before T unless ended (none recorded: room air);
-- a flow counts only if charted at or after the current device started and not ended.
CREATE OR REPLACE TEMP TABLE oxygen_at AS
WITH device AS (
    SELECT e.patient_id, e.ts, x.code AS device, x.t AS device_t, x.t_end AS device_end
    FROM eval_times e
    ASOF LEFT JOIN (SELECT * FROM ev WHERE attributable AND item = 'o2_device') x
    ON e.patient_id = x.patient_id AND e.ts >= x.t
),
flow AS (
    SELECT e.patient_id, e.ts, x.num AS flow, x.t AS flow_t, x.t_end AS flow_end
    FROM eval_times e
    ASOF LEFT JOIN (SELECT * FROM ev WHERE attributable AND item = 'o2_flow') x
    ON e.patient_id = x.patient_id AND e.ts >= x.t
),
now AS (
    SELECT d.patient_id, d.ts,
           CASE WHEN d.device IS NULL OR (d.device_end IS NOT NULL AND d.device_end <= d.ts)
                THEN 'room_air' ELSE d.device END AS o2_device,
           d.device_t, f.flow, f.flow_t, f.flow_end
    FROM device d JOIN flow f USING (patient_id, ts)
)
SELECT patient_id, ts, o2_device,
       CASE WHEN o2_device <> 'room_air' AND flow_t >= device_t
                 AND (flow_end IS NULL OR flow_end > ts)
            THEN flow END AS o2_flow_l_min
FROM now;

-- Death at T: the last death record at or before T says true, and the last true one was not
-- attributed to another cause (grade 5 also needs CRS onset: interpretation 7).
CREATE OR REPLACE TEMP TABLE death_at AS
WITH last_record AS (
    SELECT e.patient_id, e.ts, x.code AS value
    FROM eval_times e
    ASOF LEFT JOIN (SELECT * FROM ev WHERE item = 'death') x
    ON e.patient_id = x.patient_id AND e.ts >= x.t
),
last_true AS (
    SELECT e.patient_id, e.ts, x.attributable
    FROM eval_times e
    ASOF LEFT JOIN (SELECT * FROM ev WHERE item = 'death' AND lower(code) = 'true') x
    ON e.patient_id = x.patient_id AND e.ts >= x.t
)
SELECT r.patient_id, r.ts,
       coalesce(lower(r.value) = 'true', FALSE) AND coalesce(t.attributable, FALSE)
           AS death_attributable
FROM last_record r JOIN last_true t USING (patient_id, ts);

-- The state at each evaluation time.
CREATE OR REPLACE TEMP TABLE astct_state AS
SELECT
    e.patient_id, e.ts,
    v.temp_max_c,
    v.sbp_min,
    coalesce(v.temp_other_n, 0) AS temp_other_n,
    coalesce(v.sbp_other_n, 0) AS sbp_other_n,
    -- Hypotension threshold by age at T (interpretation 5; Mahadeo 2019 for ages 1-10, PALS
    -- under 1, the adult 90 mm Hg when the age is unknown).
    CASE
        WHEN age.age_at IS NULL THEN 90.0
        WHEN age.age_at < 1 THEN 70.0
        WHEN floor(age.age_at) <= 10 THEN 70.0 + 2.0 * floor(age.age_at)
        ELSE 90.0
    END AS sbp_threshold,
    CASE WHEN o.onset_t <= e.ts THEN o.onset_t END AS onset_at,
    w.waiver_t IS NOT NULL AND w.waiver_t <= e.ts AS fever_waived,
    pr.pressors_running,
    pr.pressors_excl_vasopressin,
    ox.o2_device,
    ox.o2_flow_l_min,
    d.death_attributable
FROM eval_times e
JOIN pat p USING (patient_id)
CROSS JOIN LATERAL (
    SELECT coalesce(
        datediff('day', p.birth_date, CAST(timezone('UTC', e.ts) AS DATE)) / 365.25,
        p.age_years
    ) AS age_at
) age
LEFT JOIN vital_windows v USING (patient_id, ts)
LEFT JOIN onset o USING (patient_id)
LEFT JOIN waiver w USING (patient_id)
LEFT JOIN pressor_at pr USING (patient_id, ts)
LEFT JOIN oxygen_at ox USING (patient_id, ts)
LEFT JOIN death_at d USING (patient_id, ts);

-- The criteria (ASTCT 2019 CRS grading table; numbers are interpretations in astct2019.py).
CREATE OR REPLACE TEMP TABLE astct_criteria AS
WITH s AS (
    SELECT *,
        -- Only readings charted with another cause: measured, no attributable fever (0026 §5).
        CASE WHEN temp_max_c IS NULL AND temp_other_n > 0 THEN FALSE
             ELSE round(temp_max_c, 9) >= 38.0 END AS fever,
        CASE WHEN sbp_min IS NULL AND sbp_other_n > 0 THEN FALSE
             ELSE round(sbp_min, 9) < sbp_threshold END AS hypotension,
        o2_device IN ('nasal_cannula', 'high_flow_nasal_cannula') AS nasal,
        -- The findings that found a grade are documented (decision 0026 §4).
        temp_max_c IS NOT NULL OR temp_other_n > 0
            OR (fever_waived AND (sbp_min IS NOT NULL OR sbp_other_n > 0)) AS documented
    FROM astct_state
),
f AS (
    SELECT *,
        -- Fever footnote: fever is no longer required once the waiver applies (interpretation 1).
        fever_waived OR fever AS febrile_or_waived,
        -- Interpretation 8: afebrile (documented) after the onset, no waiver: ambiguous [0, g].
        onset_at IS NOT NULL AND NOT fever_waived AND coalesce(NOT fever, FALSE) AS afebrile,
        hypotension AND pressors_running = 0 AS b2_hypotension,
        o2_device = 'blow_by'
            OR (nasal AND (round(o2_flow_l_min, 9) <= 6.0
                           OR (o2_device = 'nasal_cannula' AND o2_flow_l_min IS NULL)))
            AS b2_hypoxia,
        pressors_running >= 1 AS b3_hypotension,
        o2_device IN ('face_mask', 'non_rebreather_mask', 'venturi_mask')
            OR (nasal AND CASE
                WHEN o2_flow_l_min IS NULL
                    THEN CASE WHEN o2_device = 'high_flow_nasal_cannula' THEN TRUE END
                ELSE round(o2_flow_l_min, 9) > 6.0
            END) AS b3_hypoxia,
        pressors_excl_vasopressin >= 2 AS b4_hypotension,
        o2_device IN ('cpap', 'bipap', 'mechanical_ventilation') AS b4_hypoxia
    FROM s
)
SELECT patient_id, ts, documented,
    -- CRS established at T (decision 0023): onset or waiver; else not (a temperature charted in
    -- the window) or unknown (none).
    CASE WHEN onset_at IS NOT NULL OR fever_waived THEN TRUE
         WHEN temp_max_c IS NOT NULL OR temp_other_n > 0 THEN FALSE END AS established,
    fever AS g1_fever,
    febrile_or_waived AND b2_hypotension AS g2_hypotension,
    -- Footnote ‡: low flow is <= 6 L/min; blow-by is low flow; a nasal cannula without a flow
    -- is at least low flow; high flow is > 6 L/min; a high-flow cannula without a flow is high
    -- flow, a plain one with no flow cannot be told (interpretation 4).
    febrile_or_waived AND b2_hypoxia AS g2_hypoxia,
    febrile_or_waived AND b3_hypotension AS g3_hypotension,
    febrile_or_waived AND b3_hypoxia AS g3_hypoxia,
    febrile_or_waived AND b4_hypotension AS g4_hypotension,
    febrile_or_waived AND b4_hypoxia AS g4_hypoxia,
    death_attributable AND onset_at IS NOT NULL AS g5_death,
    -- Interpretation 8 (grade 0, up to g): the same findings, afebrile, in the episode.
    afebrile AND (b2_hypotension OR b2_hypoxia) AS a2,
    afebrile AND (b3_hypotension OR b3_hypoxia) AS a3,
    afebrile AND (b4_hypotension OR b4_hypoxia) AS a4
FROM f;

-- Every criterion, then the maximum: lower = highest grade met, upper = highest grade met or
-- undecidable (decision 0009 §2); ASTCT has no ranged wording, so a gap is always missing data.
CREATE OR REPLACE TEMP TABLE astct_grades AS
WITH b AS (
    SELECT patient_id, ts, documented, established,
        greatest(0,
            CASE WHEN g1_fever THEN 1 ELSE 0 END,
            CASE WHEN g2_hypotension OR g2_hypoxia THEN 2 ELSE 0 END,
            CASE WHEN g3_hypotension OR g3_hypoxia THEN 3 ELSE 0 END,
            CASE WHEN g4_hypotension OR g4_hypoxia THEN 4 ELSE 0 END,
            CASE WHEN g5_death THEN 5 ELSE 0 END) AS raw_lower,
        -- The upper bound of the criteria met (interpretation 8's reach up to g) ...
        greatest(0,
            CASE WHEN a2 THEN 2 ELSE 0 END,
            CASE WHEN a3 THEN 3 ELSE 0 END,
            CASE WHEN a4 THEN 4 ELSE 0 END) AS upper_met,
        -- ... and of those that cannot be decided (missing data).
        greatest(0,
            CASE WHEN g1_fever IS NULL THEN 1 ELSE 0 END,
            CASE WHEN g2_hypotension IS NULL OR g2_hypoxia IS NULL OR a2 IS NULL THEN 2 ELSE 0 END,
            CASE WHEN g3_hypotension IS NULL OR g3_hypoxia IS NULL OR a3 IS NULL THEN 3 ELSE 0 END,
            CASE WHEN g4_hypotension IS NULL OR g4_hypoxia IS NULL OR a4 IS NULL THEN 4 ELSE 0 END,
            CASE WHEN g5_death IS NULL THEN 5 ELSE 0 END) AS upper_unknown
    FROM astct_criteria
),
-- The CRS-context rule (decision 0023; ASTCT 2019 consensus definition of CRS: fever at onset,
-- following the immune therapy): not established at T (a temperature charted in the window, no
-- onset since the therapy start, no waiver) is grade 0, ASTCT's own definition; unknown (no
-- temperature either) leaves lower at 0 and is a gap from missing data.  It differs from the
-- criteria alone only with a fever charted before the therapy start.
c AS (
    SELECT *,
        CASE WHEN established THEN raw_lower ELSE 0 END AS lower,
        CASE WHEN NOT established THEN 0
             ELSE greatest(raw_lower, upper_met, upper_unknown) END AS upper,
        upper_unknown > greatest(raw_lower, upper_met) OR established IS NULL AS gap_from_missing,
        NOT coalesce(established, FALSE) AND raw_lower > 0 AS held
    FROM b
),
-- Decision 0026 §4: graded when the bounds meet; a gap missing data open is provisional when the
-- documented findings fix a grade (above 0, or the founding findings documented), else not
-- assessable, and not assessable when it meets an undecided wording (or a held grade); any other
-- gap is ambiguous.
s AS (
    SELECT *,
        CASE WHEN lower = upper THEN 'graded'
             WHEN gap_from_missing AND (held OR upper_met > raw_lower) THEN 'not_assessable'
             WHEN gap_from_missing AND (lower > 0 OR documented) THEN 'provisional'
             WHEN gap_from_missing THEN 'not_assessable'
             ELSE 'ambiguous' END AS status
    FROM c
)
-- Of two instants reported at one time (an arrival and an expiry), the later holds from then on.
SELECT s.patient_id, e.reported AS "at",
    CASE WHEN status IN ('graded', 'provisional') THEN lower END AS grade,
    status, lower, upper
FROM s JOIN eval_times e ON s.patient_id = e.patient_id AND s.ts = e.ts
QUALIFY row_number() OVER (PARTITION BY s.patient_id, e.reported ORDER BY s.ts DESC) = 1;
