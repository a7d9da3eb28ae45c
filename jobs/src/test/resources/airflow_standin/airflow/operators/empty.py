from airflow import BaseOperator


class EmptyOperator(BaseOperator):
    pass
