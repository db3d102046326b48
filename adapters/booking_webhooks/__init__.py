"""A generic booking source: booking events signed with the Standard Webhooks scheme, their
JSON Schema (`booking-event.v1.json`), and the `POST /webhooks/bookings/{source_id}` endpoint."""
