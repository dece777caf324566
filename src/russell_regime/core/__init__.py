"""Pure core: daily frame, exchange calendar and availability, features, alignment, gate,
live decisions and merge rules. No I/O, no clock; imports only the core, ``errors`` and
stdlib / numpy / pandas / exchange_calendars."""
