"""Statistics: counters kept by the services that change what they count, and their read API."""
