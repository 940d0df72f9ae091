-- ASTCT 2019 CRS grading as one change-point DuckDB script: the benchmark's reference.
--
-- Citation: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
-- syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
-- Transplant 2019;25(4):625-638 (CRS grading table and footnotes), with the interpretations
-- numbered in src/crswatch/scales/astct2019.py and the state rules of
-- docs/decisions/0005-state-engine.md and 0026.  Written from those texts, not generated from our
-- code; tests/bench/test_duckdb_reference.py checks that its trajectory equals crswatch's and
-- that of bench/duckdb_astct_every_event.sql (the same rules evaluated at every event).
--
-- Input: two views the runner (bench/_duckdb_astct.py) creates over the same Parquet shards
-- crswatch reads: events_raw (crswatch.timeline/1 events table: patient_id, time, item, value
-- as text, end, cause, ...) and patients_raw (id, age_years, birth_date, therapy_start, ...).
-- Values must be in the canonical unit of their item (the simulator writes them so); this
-- reference does no unit conversion: it lists any other unit in table wrong_units, and the runner
-- refuses the cohort.
-- Output: table astct_grades(patient_id, at, grade, status, lower, upper), one row per
-- evaluation instant (the time column is ts inside, since AT is a keyword of DuckDB's grammar).
-- The grade at any other time T is the row at the last instant <= T.
--
-- Why change points (decision 0059).  No ASTCT criterion reads a vital sign except through a
-- threshold inside a 24 h window: "an attributable temperature >= 38 °C in [T - 24 h, T]",
-- "an attributable SBP below the age threshold in [T - 24 h, T]", "any attributable / other-cause
-- temperature (or SBP) in the window" (documented or not: decision 0026 §4-5).  For each such
-- class of reading, readings whose gaps are <= 24 h form an island; "a reading of the class in
-- [T - 24 h, T]" is true from the island's first reading to its last + 24 h (closed at both
-- ends), and changes nowhere else.  So the grade can change only at: island starts, island ends
-- (last + 24 h + 1 us, reported at last + 24 h, decision 0030 §2), attributable vasopressor and
-- oxygen events and their ends, death records, CRS onset, the fever waiver, the therapy start, the
-- record's first instant, and a child's birthday that moves the hypotension threshold.  Heart
-- rate, DBP, MAP, breathing rate, SpO2, labs, neurology: no instant.
--
-- Semantics: those of bench/duckdb_astct_every_event.sql (which evaluates at every event time
-- and end, each temperature's and SBP's window expiry and the therapy start), instant for
-- instant:
--   * every instant here is one of that script's instants and is reported at the same time; the
--     state between two instants here is the same at each of that script's instants, so the
--     change points are identical;
--   * a birthday's threshold change is evaluated and reported at the UTC midnight the age-based
--     threshold changes (both scripts, as crswatch: docs/decisions/0065);
--   * a window expiry (time + 24 h + 1 us) that coincides with an event time or end elsewhere in
--     the record is reported at that event time (as there), not 1 us earlier;
--   * windows are closed at both ends, [T - 24 h, T]; nothing after the record's last event (or
--     the therapy start if later) (decision 0030 §2);
--   * "running at T": the last event of the drug or device at or before T, not yet ended
--     (start <= T < end); a rate of 0 or the device room_air stops it (0005 §4);
--   * cause = 'other' excludes an event from fever, hypotension, vasopressors and oxygen; such a
--     temperature or SBP is measured but not counted (0026 §5);
--   * before CRS is established (an attributable fever >= 38.0 °C at or after the therapy start,
--     or the fever waiver) the grade is 0, or not assessable with no temperature in the window
--     (the CRS-context rule, decisions 0023 and 0061);
--   * SQL's three-valued logic is the Kleene logic of crswatch's criteria: NULL = cannot tell.

-- Age at a UTC date (from the birth date, else the recorded age) and the hypotension threshold by
-- age (interpretation 5; Mahadeo 2019 for ages 1-10, PALS under 1, the adult 90 mm Hg when the
-- age is unknown).  The threshold never decreases with age.
CREATE OR REPLACE TEMP MACRO age_on(birth_date, age_years, day) AS
    coalesce(datediff('day', birth_date, day) / 365.25, age_years);
CREATE OR REPLACE TEMP MACRO sbp_threshold(age) AS
    CASE
        WHEN age IS NULL THEN 90
        WHEN age < 1 THEN 70
        WHEN floor(age) <= 10 THEN 70 + 2 * CAST(floor(age) AS INTEGER)
        ELSE 90
    END;

-- The temperatures and SBPs, value typed (attributable unless charted with another cause), and
-- whether the unit is the canonical one (this script converts nothing; the runner refuses a
-- cohort with another unit, table wrong_units below).
CREATE OR REPLACE TEMP TABLE vit AS
SELECT
    patient_id,
    "time" AS t,
    item = 'temperature' AS is_temp,
    TRY_CAST(value AS DOUBLE) AS num,
    coalesce(cause, '') <> 'other' AS attributable,
    CASE WHEN unit IS DISTINCT FROM CASE WHEN item = 'temperature' THEN 'Cel' ELSE 'mm[Hg]' END
         THEN coalesce(unit, '') END AS wrong_unit
FROM events_raw
WHERE item = 'temperature' OR item = 'sbp';

-- The other events the grade reads (the vital signs are excluded first: DuckDB's Parquet reader
-- evaluates that test cheaply, and it leaves ~1 % of the rows), and every event with an end (an
-- end is an instant of the every-event script, needed to place a birthday's change and a
-- colliding expiry).
CREATE OR REPLACE TEMP TABLE ev AS
WITH rest AS (
    SELECT patient_id, "time", item, value, unit, "end", cause
    FROM events_raw
    WHERE item NOT IN ('temperature', 'sbp', 'heart_rate', 'dbp', 'map', 'resp_rate', 'spo2')
)
SELECT
    patient_id,
    "time" AS t,
    item,
    CASE WHEN item NOT IN ('o2_device', 'death') THEN TRY_CAST(value AS DOUBLE) END AS num,
    CASE WHEN item IN ('o2_device', 'death') THEN value END AS code,
    unit,
    "end" AS t_end,
    coalesce(cause, '') <> 'other' AS attributable
FROM rest
WHERE item IN ('norepinephrine', 'epinephrine', 'phenylephrine', 'dopamine', 'vasopressin',
               'o2_device', 'o2_flow', 'death',
               'tocilizumab', 'siltuximab', 'anakinra',
               'dexamethasone', 'methylprednisolone', 'hydrocortisone', 'prednisone');

CREATE OR REPLACE TEMP TABLE ends AS
SELECT patient_id, "end" AS t_end FROM events_raw WHERE "end" IS NOT NULL;

-- Items in a unit other than the canonical one, by item and unit (the runner refuses them).
CREATE OR REPLACE TEMP TABLE wrong_units AS
SELECT CASE WHEN is_temp THEN 'temperature' ELSE 'sbp' END AS item, wrong_unit AS unit,
    count(*) AS events
FROM vit WHERE wrong_unit IS NOT NULL GROUP BY ALL
UNION ALL
SELECT item, coalesce(unit, ''), count(*)
FROM ev
WHERE unit IS DISTINCT FROM CASE item
    WHEN 'norepinephrine' THEN 'ug/min' WHEN 'epinephrine' THEN 'ug/min'
    WHEN 'phenylephrine' THEN 'ug/min' WHEN 'dopamine' THEN 'ug/kg/min'
    WHEN 'vasopressin' THEN 'U/min' WHEN 'o2_flow' THEN 'L/min' END
  AND item IN ('norepinephrine', 'epinephrine', 'phenylephrine', 'dopamine', 'vasopressin',
               'o2_flow')
GROUP BY ALL;

-- Per patient: the record's first instant (an end is never before its time: the reader refuses
-- it) and end, and whether any time or end has a fraction of a second (only then can a window
-- expiry, time + 24 h + 1 us, coincide with an event).
CREATE OR REPLACE TEMP TABLE pat AS
WITH span AS (
    SELECT patient_id, count(*) AS n_events, min("time") AS first_time, max("time") AS last_time,
           bool_or(epoch_us("time") % 1000000 <> 0) AS sub_second
    FROM events_raw
    GROUP BY patient_id
),
sub_second_ends AS (
    SELECT patient_id, bool_or(epoch_us(t_end) % 1000000 <> 0) AS sub_second
    FROM ends
    GROUP BY patient_id
),
p AS (
    SELECT
        r.id AS patient_id,
        CAST(r.age_years AS DOUBLE) AS age_years,
        TRY_CAST(r.birth_date AS DATE) AS birth_date,
        r.therapy_start,
        coalesce(s.n_events, 0) AS n_events,
        least(r.therapy_start, coalesce(s.first_time, r.therapy_start)) AS first_t,
        greatest(r.therapy_start, coalesce(s.last_time, r.therapy_start)) AS until_t,
        coalesce(s.sub_second, FALSE) OR coalesce(x.sub_second, FALSE) AS sub_second
    FROM patients_raw r
    LEFT JOIN span s ON s.patient_id = r.id
    LEFT JOIN sub_second_ends x ON x.patient_id = r.id
)
SELECT *,
    sbp_threshold(age_on(birth_date, age_years, CAST(first_t AS DATE))) AS thr_first,
    sbp_threshold(age_on(birth_date, age_years, CAST(until_t AS DATE))) AS thr_last
FROM p;

-- The classes of thresholded reading (each a column of the state at T):
--   1 attributable temperature, 2 attributable temperature >= 38.0 °C, 3 other-cause temperature,
--   4 attributable SBP, 5 other-cause SBP, 100 + θ attributable SBP < θ mm Hg, for every
--   threshold θ the patient has during the record (one for an adult).
-- Readings are first reduced to the first and last of each class per 24 h bucket (of the
-- epoch, in integer microseconds: interval arithmetic on time-zone-aware timestamps costs ~10x
-- more): two readings in one bucket are less than 24 h apart, so no island starts or ends
-- inside a bucket, and the islands below are found among ~30 rows per class and patient
-- instead of thousands of readings.
CREATE OR REPLACE TEMP TABLE classed AS
WITH thresholds AS (
    SELECT patient_id, unnest(generate_series(thr_first, thr_last, 2)) AS thr FROM pat
),
readings AS (
    SELECT patient_id, t,
        CASE WHEN is_temp THEN (CASE WHEN attributable THEN 1 ELSE 3 END)
             ELSE (CASE WHEN attributable THEN 4 ELSE 5 END) END AS cls
    FROM vit WHERE num IS NOT NULL
    UNION ALL
    SELECT patient_id, t, 2
    FROM vit WHERE is_temp AND attributable AND round(num, 9) >= 38.0
    UNION ALL
    SELECT v.patient_id, v.t, 100 + h.thr
    FROM vit v JOIN thresholds h USING (patient_id)
    -- No threshold is above 90 mm Hg: the test before the join keeps the join small.
    WHERE NOT v.is_temp AND v.attributable AND round(v.num, 9) < 90 AND round(v.num, 9) < h.thr
)
-- The offset (10^5 days) keeps the bucket number positive, so // floors it.
SELECT patient_id, cls, (epoch_us(t) + 8640000000000000) // 86400000000 AS bucket,
    min(t) AS first_t, max(t) AS last_t,
    epoch_us(min(t)) AS first_us, epoch_us(max(t)) AS last_us
FROM readings
GROUP BY patient_id, cls, bucket;

-- Islands: a bucket opens one when the last reading of its class before it is more than 24 h
-- before its first (or there is none); it closes one when the next reading is more than 24 h
-- after its last.  Readings exactly 24 h apart share an island ([t, t + 24 h] and
-- [t + 24 h, t + 48 h] touch).
CREATE OR REPLACE TEMP TABLE islands AS
WITH marked AS (
    SELECT patient_id, cls, first_us, first_t, last_t,
        coalesce(first_us - lag(last_us) OVER w > 86400000000, TRUE) AS opens,
        coalesce(lead(first_us) OVER w - last_us > 86400000000, TRUE) AS closes
    FROM classed
    WINDOW w AS (PARTITION BY patient_id, cls ORDER BY first_us)
),
edges AS (
    SELECT * FROM marked WHERE opens OR closes
)
-- Each island has one opening and one closing bucket (the same one if it stands alone), so the
-- next edge after an opening one is its closing one.
SELECT patient_id, cls, first_t,
    CASE WHEN closes THEN last_t ELSE lead(last_t) OVER (PARTITION BY patient_id, cls ORDER BY first_us) END
        AS last_t
FROM edges
QUALIFY opens;

-- CRS onset: the first attributable temperature >= 38.0 °C at or after the therapy start.
-- Waiver (ASTCT fever footnote): the first anti-cytokine (tocilizumab, siltuximab, anakinra) or
-- corticosteroid dose at or after onset, whatever it was given for; antipyretics do not waive
-- (discrepancy D2, the default).
CREATE OR REPLACE TEMP TABLE onset AS
SELECT v.patient_id, min(v.t) AS onset_t
FROM vit v JOIN pat p USING (patient_id)
WHERE v.is_temp AND v.attributable AND round(v.num, 9) >= 38.0 AND v.t >= p.therapy_start
GROUP BY v.patient_id;

CREATE OR REPLACE TEMP TABLE waiver AS
SELECT e.patient_id, min(e.t) AS waiver_t
FROM ev e JOIN onset o USING (patient_id)
WHERE e.item IN ('tocilizumab', 'siltuximab', 'anakinra',
                 'dexamethasone', 'methylprednisolone', 'hydrocortisone', 'prednisone')
  AND e.t >= o.onset_t
GROUP BY e.patient_id;

-- A child's threshold changes at a UTC midnight (the age is counted in whole days): evaluated
-- there, as crswatch and the every-event script do (docs/decisions/0065).
CREATE OR REPLACE TEMP TABLE birthdays AS
WITH days AS (
    SELECT patient_id, birth_date, age_years,
        CAST(unnest(generate_series(CAST(first_t AS DATE) + 1, CAST(until_t AS DATE),
                                    INTERVAL 1 DAY)) AS DATE) AS day
    FROM pat
    WHERE birth_date IS NOT NULL AND thr_first <> thr_last
)
SELECT patient_id, CAST(day AS TIMESTAMPTZ) AS b
FROM days
WHERE sbp_threshold(age_on(birth_date, age_years, day))
    <> sbp_threshold(age_on(birth_date, age_years, day - 1));

CREATE OR REPLACE TEMP TABLE birthday_moments AS
SELECT patient_id, b AS ts, FALSE AS expiry FROM birthdays;

-- The instants (expiry: a window expiry, reported 1 us earlier unless an event is there too).
CREATE OR REPLACE TEMP TABLE instants AS
WITH moments AS (
    SELECT patient_id, first_t AS ts, FALSE AS expiry FROM islands
    UNION ALL
    SELECT patient_id, last_t + INTERVAL 24 HOUR + INTERVAL 1 MICROSECOND, TRUE FROM islands
    UNION ALL
    SELECT patient_id, first_t, FALSE FROM pat
    UNION ALL
    SELECT patient_id, therapy_start, FALSE FROM pat
    UNION ALL
    SELECT patient_id, onset_t, FALSE FROM onset
    UNION ALL
    SELECT patient_id, waiver_t, FALSE FROM waiver
    UNION ALL
    SELECT patient_id, t, FALSE FROM ev
    WHERE (attributable AND item IN ('norepinephrine', 'epinephrine', 'phenylephrine', 'dopamine',
                                     'vasopressin', 'o2_device', 'o2_flow'))
       OR item = 'death'
    UNION ALL
    SELECT patient_id, t_end, FALSE FROM ev
    WHERE attributable AND t_end IS NOT NULL
      AND item IN ('norepinephrine', 'epinephrine', 'phenylephrine', 'dopamine', 'vasopressin',
                   'o2_device', 'o2_flow')
    UNION ALL
    SELECT patient_id, ts, expiry FROM birthday_moments
)
SELECT m.patient_id, m.ts, bool_and(m.expiry) AS expiry
FROM moments m JOIN pat p USING (patient_id)
WHERE m.ts <= p.until_t
GROUP BY m.patient_id, m.ts;

-- A window expiry at the very time of another event (possible only with sub-second times) is
-- reported at that time, as the every-event script does.
CREATE OR REPLACE TEMP TABLE eval_times AS
WITH probe AS (
    SELECT i.patient_id, i.ts
    FROM instants i JOIN pat p USING (patient_id)
    WHERE i.expiry AND p.sub_second
),
collided AS (
    SELECT DISTINCT q.patient_id, q.ts
    FROM probe q JOIN events_raw e ON e.patient_id = q.patient_id AND e."time" = q.ts
    UNION
    SELECT DISTINCT q.patient_id, q.ts
    FROM probe q JOIN ends e ON e.patient_id = q.patient_id AND e.t_end = q.ts
)
SELECT i.patient_id, i.ts,
    CASE WHEN i.expiry AND c.ts IS NULL THEN i.ts - INTERVAL 1 MICROSECOND ELSE i.ts END
        AS reported
FROM instants i LEFT JOIN collided c USING (patient_id, ts);

-- Fever, hypotension and their documentation at each instant: is T in an island of the class?
CREATE OR REPLACE TEMP TABLE vital_flags AS
WITH at_t AS (
    SELECT e.patient_id, e.ts,
        sbp_threshold(age_on(p.birth_date, p.age_years, CAST(e.ts AS DATE))) AS thr
    FROM eval_times e JOIN pat p USING (patient_id)
)
SELECT a.patient_id, a.ts,
    coalesce(bool_or(s.cls = 1), FALSE) AS temp_attributable,
    coalesce(bool_or(s.cls = 2), FALSE) AS temp_fever,
    coalesce(bool_or(s.cls = 3), FALSE) AS temp_other,
    coalesce(bool_or(s.cls = 4), FALSE) AS sbp_attributable,
    coalesce(bool_or(s.cls = 5), FALSE) AS sbp_other,
    coalesce(bool_or(s.cls = 100 + a.thr), FALSE) AS sbp_low
FROM at_t a
LEFT JOIN islands s ON s.patient_id = a.patient_id
    AND a.ts >= s.first_t AND a.ts <= s.last_t + INTERVAL 24 HOUR
GROUP BY a.patient_id, a.ts;

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

-- The state at each instant.
CREATE OR REPLACE TEMP TABLE astct_state AS
SELECT
    e.patient_id, e.ts,
    v.temp_attributable, v.temp_fever, v.temp_other,
    v.sbp_attributable, v.sbp_low, v.sbp_other,
    CASE WHEN o.onset_t <= e.ts THEN o.onset_t END AS onset_at,
    w.waiver_t IS NOT NULL AND w.waiver_t <= e.ts AS fever_waived,
    pr.pressors_running,
    pr.pressors_excl_vasopressin,
    ox.o2_device,
    ox.o2_flow_l_min,
    d.death_attributable
FROM eval_times e
LEFT JOIN vital_flags v USING (patient_id, ts)
LEFT JOIN onset o USING (patient_id)
LEFT JOIN waiver w USING (patient_id)
LEFT JOIN pressor_at pr USING (patient_id, ts)
LEFT JOIN oxygen_at ox USING (patient_id, ts)
LEFT JOIN death_at d USING (patient_id, ts);

-- The criteria (ASTCT 2019 CRS grading table; numbers are interpretations in astct2019.py).
CREATE OR REPLACE TEMP TABLE astct_criteria AS
WITH s AS (
    SELECT *,
        -- The highest attributable temperature in the window is >= 38.0 °C; only readings
        -- charted with another cause: measured, no attributable fever (0026 §5); none: unknown.
        CASE WHEN temp_attributable THEN temp_fever WHEN temp_other THEN FALSE END AS fever,
        -- The lowest attributable SBP in the window is below the threshold at T; likewise.
        CASE WHEN sbp_attributable THEN sbp_low WHEN sbp_other THEN FALSE END AS hypotension,
        o2_device IN ('nasal_cannula', 'high_flow_nasal_cannula') AS nasal,
        -- The findings that found a grade are documented (decision 0026 §4).
        temp_attributable OR temp_other
            OR (fever_waived AND (sbp_attributable OR sbp_other)) AS documented
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
         WHEN temp_attributable OR temp_other THEN FALSE END AS established,
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
