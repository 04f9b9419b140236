from django.dispatch import Signal

# Args: sender (Token), request (or None), token.
token_created = Signal()

# Args: sender (Token), request, token. Sent when the sliding expiry moved forward.
token_renewed = Signal()

# Args: sender (Token), request (or None), token, reason. Sent once per token.
token_revoked = Signal()

# Args: sender (DeviceKey), request (or None), device.
device_registered = Signal()

# Args: sender (UserTokenTakeover), request, takeover.
takeover_started = Signal()

# Args: sender (UserTokenTakeover), request (or None), takeover, reason.
takeover_ended = Signal()
