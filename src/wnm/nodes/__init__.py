"""Node generations: legacy ``antnode`` and second-generation ``ant-node``."""
