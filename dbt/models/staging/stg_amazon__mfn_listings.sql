-- Amazon merchant-fulfilled listing quantities (Listings Items API searchListingsItems,
-- includedData=fulfillmentAvailability). Only the DEFAULT channel is the seller's own
-- (merchant-fulfilled) offer; AMAZON_* channels are FBA, read from the FBA Inventory API.
-- A listed quantity is what the channel may sell: it maps onto `available` only
-- (extractors/README.md). The marketplace id is the external location, as for FBA; the
-- location mapping says which warehouse ships the seller's own offers.
with

source as (

    select * from {{ source('raw', 'amazon_mfn_listings') }}

),

renamed as (

    select
        snapshot_id,
        seller_sku as external_sku,
        marketplace_id as external_location,
        asin,
        status,
        cast(quantity as {{ dbt.type_int() }}) as available,
        {{ iso8601_to_naive_utc("nullif(last_updated_date, '')") }} as updated_at

    from source
    where fulfillment_channel_code = 'DEFAULT'

)

select * from renamed
