"""The agent-side CTI API (AmazonConnectCTIService, JSON 1.0) that StreamsJS's worker speaks."""
