class AirflowException(Exception):
    pass
