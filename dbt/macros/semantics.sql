{#- Inventory semantics shared by several models. -#}

{#- The probable cause of an out-of-tolerance variance row (columns of
    int_current_variances_evaluated), first match wins; null within tolerance. The order is
    the contract (tested in fct_variance.yml): evidence of a specific mechanism beats the
    direction-based fallbacks oversell_risk and sync_lag_breach. -#}
{% macro variance_probable_cause() -%}
    case
        when within_tolerance is distinct from false then null
        when source_records > 1 then 'duplicate_record'
        when is_listing and not is_listed then 'missing_listing'
        -- the channel's last move copied the master's last on-hand move (same units, at or
        -- after it) and landed on the on-hand while units are committed: a relist or a
        -- channel that stopped updating can equal the on-hand too, but never moves like it
        when is_listing
            and master_on_hand > master_available
            and observed_qty = greatest(0, master_on_hand - channel_buffer)
            and last_observed_change_units = last_on_hand_change_units
            and last_observed_change_at >= last_on_hand_change_at
            then 'on_hand_pushed_as_available'
        when direction = 'overstated'
            and last_observed_change_units > 0
            and last_observed_change_at > last_master_change_at
            then 'unexplained_increase'
        when is_listing and last_observed_change_at > last_master_change_at
            then 'channel_edited_directly'
        when is_listing and direction = 'overstated' then 'oversell_risk'
        else 'sync_lag_breach'
    end
{%- endmacro %}

{#- Causes that say "this system did not follow the master" and so, many at once, are
    evidence of a stopped sync; the specific mechanisms above are not. -#}
{% macro is_sync_evidence_cause(cause) -%}
    {{ cause }} in ('oversell_risk', 'sync_lag_breach')
{%- endmacro %}

{#- Available-to-promise from canonical buckets (PRODUCT.md "Canonical quantities"):
    on_hand - committed - reserved - safety_stock, less units that are on hand but not
    sellable (dated lots past their sellable date). May go negative (oversold/backorder). -#}
{% macro available_to_promise(on_hand, committed, reserved, safety_stock, unsellable='0') -%}
    ({{ on_hand }} - coalesce({{ committed }}, 0) - coalesce({{ reserved }}, 0)
        - coalesce({{ safety_stock }}, 0) - coalesce({{ unsellable }}, 0))
{%- endmacro %}

{#- Roles whose committed units are reservations for OUR orders, so the master's committed
    must follow theirs (canceled_order_not_released): the fulfilling holders. A listing
    channel's committed is its own open orders, a supplier's is its other customers'. -#}
{% macro reserves_for_our_orders(role) -%}
    {{ role }} in ('3pl', 'wms', 'pos')
{%- endmacro %}

{#- Roles whose incoming is stock coming to us against our purchase orders (incoming_stuck):
    every holder except a supplier, whose incoming is its own production or purchasing. -#}
{% macro receives_our_purchase_orders(role) -%}
    {{ role }} in ('3pl', 'wms', 'pos', 'marketplace', 'storefront')
{%- endmacro %}


{#- Settledness blocks shared by the current-cycle marts (drift, bundles, lots, holders);
    their drift runs are per-key state: int_variance_states, int_comparison_states. -#}

{#- The rows of `history` (a CTE with snapshot_id and its snapshot's cycle_at) from each
    system's latest successful snapshot in the `snapshots` CTE (int_snapshots_deduplicated
    up to the cycle). Joined on the cycle too: the histories are appended in cycle order,
    so DuckDB prunes every older row group instead of probing the whole history. -#}
{% macro latest_snapshot_rows(history, snapshots='snapshots') -%}
    select {{ history }}.*
    from {{ history }}
    inner join (
        select
            snapshot_id,
            cycle_at,
            row_number() over (
                partition by system_id
                order by cycle_at desc, observed_at desc, snapshot_id desc
            ) as recency_rank

        from {{ snapshots }}
    ) as snapshots_ranked
        on {{ history }}.snapshot_id = snapshots_ranked.snapshot_id
        and {{ history }}.cycle_at = snapshots_ranked.cycle_at
    where snapshots_ranked.recency_rank = 1
{%- endmacro %}


{#- The rows of `source` (a CTE with system_id, cycle_at, observed_at) that a per-key state
    model has not folded in yet: after their system's watermark in `watermarks`
    (applied_cycle_at, applied_observed_at; matched on `keys`). The oldest watermark bounds
    the scan: DuckDB treats the scalar subquery as a constant and skips older row groups of
    the history unread. A system without a watermark is new since the last build. -#}
{% macro rows_after_watermarks(source, watermarks, keys) -%}
    select {{ source }}.*
    from {{ source }}
    left join {{ watermarks }}
        on {% for key in keys -%}
        {{ source }}.{{ key }} = {{ watermarks }}.{{ key }}{{ ' and ' if not loop.last }}
        {%- endfor %}
    where {{ source }}.cycle_at >= (
        select coalesce(min(applied_cycle_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ watermarks }}
    )
        and (
            {{ watermarks }}.system_id is null
            or {{ source }}.cycle_at > {{ watermarks }}.applied_cycle_at
            or (
                {{ source }}.cycle_at = {{ watermarks }}.applied_cycle_at
                and {{ source }}.observed_at > {{ watermarks }}.applied_observed_at
            )
        )
{%- endmacro %}
