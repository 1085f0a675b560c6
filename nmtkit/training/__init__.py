"""Loss, optimisers and schedules, the model folder, validation and the training loop."""
