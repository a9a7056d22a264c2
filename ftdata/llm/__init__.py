"""Model calls shared by augmentation and the model-backed ops: the client and its cache."""
