from django.dispatch import Signal

# Args: sender (Token), request (or None), token.
token_created = Signal()

# Args: sender (Token), request, token. Sent when the sliding expiry moved forward.
token_renewed = Signal()

# Args: sender (Token), request (or None), token, reason. Sent once per token.
token_revoked = Signal()

# Args: sender (Token), token, days_left. Sent by ``notify_expiring_tokens``, once per personal
# access token, when it is about to expire.
token_expiring = Signal()

# Args: sender (DeviceKey), request (or None), device.
device_registered = Signal()

# Args: sender (UserTokenTakeover), request, takeover.
takeover_started = Signal()

# Args: sender (UserTokenTakeover), request (or None), takeover, reason.
takeover_ended = Signal()
