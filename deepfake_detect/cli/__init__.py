"""The `deepfake-detect` command: the service's inference path on local files, no server needed."""
