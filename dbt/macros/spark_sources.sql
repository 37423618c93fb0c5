{#- Stage the dbt sources (`raw.*`, `config.*`) on engines that do not hold them in the
    warehouse itself. On DuckDB the sources are tables (or views over the Parquet export,
    `stockdrift.parquet_export.attach_duckdb_views`), so this is a no-op there. On Spark it
    creates one view per source over the Parquet export written by
    `stockdrift/parquet_export.py` (root from env `STOCKDRIFT_RAW_PARQUET`):

        dbt run-operation stage_raw_sources --target spark

    Views re-list the files at every query, so snapshots exported later are read without
    re-staging; re-run it only when the root moves. A raw table no snapshot has rows in
    (a connector not configured, lots or returns not turned on) still has a directory:
    `export_warehouse` writes one zero-row file per raw table from the warehouse DDL
    (`parquet_export.EMPTY_PARTITION`), so its view is empty and typed, not a missing
    path. A root exported before a raw table existed needs `export_warehouse` re-run. -#}
{% macro stage_raw_sources(root=none) -%}
    {{ return(adapter.dispatch('stage_raw_sources', 'stockdrift')(root)) }}
{%- endmacro %}

{% macro default__stage_raw_sources(root) -%}
    {{ log('stage_raw_sources: ' ~ target.type ~ ' reads raw.* and config.* in place', info=true) }}
{%- endmacro %}

{% macro spark__stage_raw_sources(root) -%}
    {%- set root = root or env_var('STOCKDRIFT_RAW_PARQUET', '../out/raw_parquet') -%}
    {%- set root = modules.re.sub('/+$', '', root) -%}
    {%- for source_node in graph.sources.values() | selectattr('package_name', 'equalto', project_name) -%}
        {%- if source_node.schema == 'config' -%}
            {%- set location = root ~ '/config/' ~ source_node.identifier ~ '.parquet' -%}
        {%- else -%}
            {%- set location = root ~ '/' ~ source_node.identifier -%}
        {%- endif -%}
        {%- call statement('schema_' ~ loop.index) -%}
            create database if not exists {{ source_node.schema }}
        {%- endcall -%}
        {%- call statement('view_' ~ loop.index) -%}
            create or replace view {{ source_node.schema }}.{{ source_node.identifier }} as
            select * from parquet.`{{ location }}`
        {%- endcall -%}
        {{ log('stage_raw_sources: ' ~ source_node.schema ~ '.' ~ source_node.identifier ~ ' -> ' ~ location, info=true) }}
    {%- endfor -%}
{%- endmacro %}
