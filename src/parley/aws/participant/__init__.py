"""The Participant Service (boto3 ``connectparticipant``, ChatJS): handlers, item wire format, websocket."""
