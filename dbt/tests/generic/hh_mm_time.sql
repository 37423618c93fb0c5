{#- Rows whose non-null value is not a 24-hour 'HH:MM' wall-clock time. -#}
{% test hh_mm_time(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is not null
    and (
        length({{ column_name }}) <> 5
        or substring({{ column_name }}, 3, 1) <> ':'
        or substring({{ column_name }}, 1, 2) not between '00' and '23'
        or substring({{ column_name }}, 4, 2) not between '00' and '59'
    )

{% endtest %}
