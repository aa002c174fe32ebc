"""HTTP adapters for sign-in, tokens and card readers: they translate requests to service calls and back."""
