{{ config(materialized='view') }}
-- Every comparison ever made (one row per non-master snapshot x canonical key), for trends
-- in the report: accuracy per cycle, drift over time. A view over the incremental history.
with

history as (

    select * from {{ ref('int_variances_computed') }}

)

select * from history
