"""Worker processes: build the client and the activities' dependencies, register, run."""
