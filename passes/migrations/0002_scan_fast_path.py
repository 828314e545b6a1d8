"""The scan fast path on PostgreSQL: an online scan that ends in an acceptance, in one statement.

`passes/scanning.py` stays the reference for every rule. This function only *accepts*: whenever
the reference would refuse, flag, replay or answer an earlier nonce, it returns NULL having
changed nothing that matters (at most a counter row created at zero, as the reference does too),
and the caller runs the reference path. Keeping every refusal in Python keeps one place that says
why a scan is refused; the function repeats only the conditions for saying yes.

It is called in autocommit, so that one round trip is the whole transaction: PL/pgSQL keeps its
plans, which an ORM statement sent as text never gets.

On SQLite nothing is created: the reference path is the only path.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION chtipass_scan_accept_v1(
    p_host_id bigint,
    p_host_slug text,
    p_host_tz text,
    p_pass_id bigint,
    p_member_id bigint,
    p_home_id bigint,
    p_is_static boolean,
    p_kid integer,
    p_counter bigint,
    p_credential text,
    p_moment timestamptz,
    p_scanned_at timestamptz,
    p_nonce text,
    p_partner_key_id text,
    p_scanned_by_id bigint,
    p_media_url text
) RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_pass record;
    v_day date;
    v_month date;
    v_capacity bigint;
    v_visit_id bigint;
    v_already boolean := false;
    v_network_used bigint;
    v_host_used bigint;
    v_network_left bigint;
    v_host_left bigint;
    v_scan_id bigint;
    v_response json;
BEGIN
    -- An earlier scan with this nonce answers: the reference path returns its answer.
    IF p_nonce IS NOT NULL AND EXISTS (
        SELECT 1 FROM passes_scan WHERE host_id = p_host_id AND nonce = p_nonce
    ) THEN
        RETURN NULL;
    END IF;

    -- The pass row lock serializes every scan of this pass (as the reference does).
    SELECT p.id, p.network_id, p.status,
           ms.status AS membership_status, ms.starts_on, ms.ends_on,
           home.name AS home_name, home.timezone AS home_tz,
           mb.first_name, mb.photo,
           n.monthly_visits, n.monthly_visits_per_host
      INTO v_pass
      FROM passes_pass p
      JOIN spaces_membership ms ON ms.id = p.membership_id
      JOIN spaces_space home ON home.id = ms.space_id
      JOIN coworking_member mb ON mb.id = p.member_id
      JOIN passes_network n ON n.id = p.network_id
     WHERE p.id = p_pass_id AND p.member_id = p_member_id AND ms.space_id = p_home_id
       FOR NO KEY UPDATE OF p;
    IF NOT FOUND OR v_pass.status <> 'active' THEN
        RETURN NULL;
    END IF;
    -- A photo whose URL the storage would have to escape: let Django write it.
    IF v_pass.photo <> '' AND v_pass.photo !~ '^[A-Za-z0-9._/-]+$' THEN
        RETURN NULL;
    END IF;
    IF NOT p_is_static AND EXISTS (
        SELECT 1 FROM passes_counteruse WHERE pass_id = p_pass_id AND counter = p_counter
    ) THEN
        RETURN NULL;
    END IF;
    IF v_pass.membership_status <> 'active'
       OR v_pass.starts_on > (p_moment AT TIME ZONE v_pass.home_tz)::date
       OR v_pass.ends_on < (p_moment AT TIME ZONE v_pass.home_tz)::date THEN
        RETURN NULL;
    END IF;

    v_day := (p_moment AT TIME ZONE p_host_tz)::date;
    v_month := date_trunc('month', v_day)::date;

    IF p_host_id <> p_home_id THEN
        SELECT daily_visitor_capacity INTO v_capacity
          FROM passes_networkspace
         WHERE network_id = v_pass.network_id AND space_id = p_host_id;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;

    SELECT id INTO v_visit_id
      FROM passes_visit
     WHERE member_id = p_member_id AND host_id = p_host_id AND date = v_day;
    IF FOUND THEN
        v_already := true;
    ELSIF p_host_id = p_home_id THEN
        INSERT INTO passes_visit
            (member_id, pass_id, network_id, host_id, home_id, date, uses_allowance, flagged,
             flag_reason, created_at)
        VALUES (p_member_id, p_pass_id, v_pass.network_id, p_host_id, p_home_id, v_day, false,
                false, '', now())
        RETURNING id INTO v_visit_id;
    ELSE
        -- Capacity, then the allowance network-wide and at this host: each a conditional
        -- upsert, so that concurrent scans never pass a limit. Refused: undo, and let the
        -- reference path say why.
        IF v_capacity < 1 OR v_pass.monthly_visits < 1 OR v_pass.monthly_visits_per_host < 1 THEN
            RETURN NULL;
        END IF;
        INSERT INTO passes_hostdaycounter AS c (network_id, host_id, date, used)
        VALUES (v_pass.network_id, p_host_id, v_day, 1)
        ON CONFLICT (network_id, host_id, date)
        DO UPDATE SET used = c.used + 1 WHERE c.used < v_capacity;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        INSERT INTO passes_allowancecounter AS c (member_id, network_id, month, host_id, used)
        VALUES (p_member_id, v_pass.network_id, v_month, NULL, 1)
        ON CONFLICT (member_id, network_id, month) WHERE host_id IS NULL
        DO UPDATE SET used = c.used + 1 WHERE c.used < v_pass.monthly_visits
        RETURNING used INTO v_network_used;
        IF NOT FOUND THEN
            UPDATE passes_hostdaycounter SET used = used - 1
             WHERE network_id = v_pass.network_id AND host_id = p_host_id AND date = v_day;
            RETURN NULL;
        END IF;
        INSERT INTO passes_allowancecounter AS c (member_id, network_id, month, host_id, used)
        VALUES (p_member_id, v_pass.network_id, v_month, p_host_id, 1)
        ON CONFLICT (member_id, network_id, month, host_id) WHERE host_id IS NOT NULL
        DO UPDATE SET used = c.used + 1 WHERE c.used < v_pass.monthly_visits_per_host
        RETURNING used INTO v_host_used;
        IF NOT FOUND THEN
            UPDATE passes_hostdaycounter SET used = used - 1
             WHERE network_id = v_pass.network_id AND host_id = p_host_id AND date = v_day;
            UPDATE passes_allowancecounter SET used = used - 1
             WHERE member_id = p_member_id AND network_id = v_pass.network_id
               AND month = v_month AND host_id IS NULL;
            RETURN NULL;
        END IF;
        INSERT INTO passes_visit
            (member_id, pass_id, network_id, host_id, home_id, date, uses_allowance, flagged,
             flag_reason, created_at)
        VALUES (p_member_id, p_pass_id, v_pass.network_id, p_host_id, p_home_id, v_day, true,
                false, '', now())
        RETURNING id INTO v_visit_id;
    END IF;

    IF v_network_used IS NULL THEN  -- nothing consumed here: read what is left
        SELECT COALESCE(max(used) FILTER (WHERE host_id IS NULL), 0),
               COALESCE(max(used) FILTER (WHERE host_id = p_host_id), 0)
          INTO v_network_used, v_host_used
          FROM passes_allowancecounter
         WHERE member_id = p_member_id AND network_id = v_pass.network_id AND month = v_month;
    END IF;
    v_network_left := GREATEST(v_pass.monthly_visits - v_network_used, 0);
    v_host_left := LEAST(v_network_left, GREATEST(v_pass.monthly_visits_per_host - v_host_used, 0));

    -- The answer, key for key as passes.scanning._response writes an acceptance.
    v_response := json_build_object(
        'decision', 'accepted',
        'reason', NULL,
        'already_checked_in', v_already,
        'visit', json_build_object(
            'id', v_visit_id, 'date', to_char(v_day, 'YYYY-MM-DD'), 'host', p_host_slug),
        'visitor', json_build_object(
            'first_name', v_pass.first_name,
            'photo_url', CASE WHEN v_pass.photo = '' THEN NULL ELSE p_media_url || v_pass.photo END,
            'home_space', v_pass.home_name),
        'allowance', json_build_object('network_left', v_network_left, 'host_left', v_host_left),
        'id_check_required', p_is_static,
        'offline', false,
        'flagged', false,
        'flag_reason', NULL,
        'nonce', p_nonce
    );
    INSERT INTO passes_scan
        (host_id, partner_key_id, scanned_by_id, credential, kid, counter, pass_id, scanned_at,
         received_at, decision, reason, already_checked_in, offline, flagged, nonce, visit_id,
         response)
    VALUES (p_host_id, p_partner_key_id, p_scanned_by_id, left(p_credential, 200), p_kid,
            p_counter, p_pass_id, p_scanned_at, p_moment, 'accepted', '', v_already, false, false,
            p_nonce, v_visit_id, v_response::jsonb)
    RETURNING id INTO v_scan_id;
    IF NOT p_is_static THEN
        INSERT INTO passes_counteruse (pass_id, counter, host_id, first_scan_id)
        VALUES (p_pass_id, p_counter, p_host_id, v_scan_id);
    END IF;
    RETURN v_response;
END
$fn$;
"""

DROP = "DROP FUNCTION IF EXISTS chtipass_scan_accept_v1(bigint, text, text, bigint, bigint, bigint, boolean, integer, bigint, text, timestamptz, timestamptz, text, text, bigint, text);"  # noqa: E501


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("passes", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
