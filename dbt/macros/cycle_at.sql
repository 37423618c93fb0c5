{#- The monitoring cycle's timestamp as a SQL literal (naive UTC).
    Every cycle passes `--vars '{cycle_at: "YYYY-MM-DD HH:MM:SS"}'`; ad-hoc runs without it
    use the current UTC time so `dbt build` still works from a shell. -#}
{% macro cycle_at() -%}
    {%- set value = var('cycle_at', none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- endif -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
