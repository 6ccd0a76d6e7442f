"""Running the platform: health checks, embedded services, the serve/worker commands."""
