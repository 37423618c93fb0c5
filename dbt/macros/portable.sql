{#- Small dispatch macros for the few places where dialects differ and dbt has no
    cross-database macro. Add a `<adapter>__` variant when porting to a new warehouse. -#}

{#- Continuous percentile of `expression` (an aggregate), `fraction` in [0, 1]. -#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'stockdrift')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- An ISO-8601 string with a UTC offset ('2025-01-06T04:05:00-05:00') as a naive UTC
    timestamp. -#}
{% macro iso8601_to_naive_utc(expression) -%}
    {{ return(adapter.dispatch('iso8601_to_naive_utc', 'stockdrift')(expression)) }}
{%- endmacro %}

{% macro default__iso8601_to_naive_utc(expression) -%}
    cast(cast({{ expression }} as timestamp with time zone) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__iso8601_to_naive_utc(expression) -%}
    cast(timezone('UTC', cast({{ expression }} as timestamptz)) as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__iso8601_to_naive_utc(expression) -%}
    to_utc_timestamp(cast({{ expression }} as timestamp), current_timezone())
{%- endmacro %}

{#- A vendor number sent as a string ('12', '12.0', '-3') as an integer quantity. -#}
{% macro string_to_quantity(expression) -%}
    cast(cast({{ expression }} as {{ dbt.type_numeric() }}) as {{ dbt.type_int() }})
{%- endmacro %}

{#- Whole minutes from `first` to `second` (timestamps). -#}
{% macro minutes_between(first, second) -%}
    {{ dbt.datediff(first, second, 'minute') }}
{%- endmacro %}

{% macro sync_activity_window_minutes(target_minutes) -%}
    {#- How far back a master change still shows whether a channel is syncing: an hour, or
        twelve freshness targets for slower systems. -#}
    case when 12 * {{ target_minutes }} > 60 then 12 * {{ target_minutes }} else 60 end
{%- endmacro %}

{#- Put after `name as` of a CTE that selects from a large history table and is read more
    than once: DuckDB materializes such CTEs (every row of the history, written out) before
    the readers' filters apply; inlined, each reader's filter prunes the scan. Measured on a
    21-cycle 600k-row warehouse: int_holder_buckets_compared 1.2 -> 0.2 s, fct_unmapped_keys
    0.4-0.8 -> 0.05 s. Spark plans CTEs inline already. -#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte', 'stockdrift')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}{%- endmacro %}

{% macro duckdb__inline_cte() -%}not materialized{%- endmacro %}
