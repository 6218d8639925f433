#!/usr/bin/env python3
"""
Basic example of how I set up myopic scheduling integration
"""

from myopic_sor_scheduler import MyopicScheduler, MyopicParameters
from main_myopic_final import run_job_with_myopic
import pandas as pd

def basic_integration_example():
    # Define parameters as I configured them
    strategy_params = {
        'S': 1000,         # Trade 1000 shares
        'T': 15,           # Over 15 minutes
        'f': 0.003,        # 30 bps fee
        'r': [0.002],      # 20 bps rebate
        'lambda_u': 0.05,  # Underfill penalty
        'lambda_o': 0.05,  # Overfill penalty
        'N': 500           # Monte Carlo simulations
    }
    
    # How the integration works with existing SOR
    stock, results = run_job_with_myopic(
        stock="AAPL",
        day="2025-04-02",
        strategy_params=strategy_params,
        data_path="./data/",
        order_freq=60,  # My scheduler checks every minute
        start_time=("09", "30"),
        end_time=("16", "00"),
        lookup_duration=(0, 30),  # 30-minute lookback for SOR
        market_data_path="./data/",
        use_myopic=True
    )
    
    # The integration preserves all SOR functionality
    print(f"Stock: {stock}")
    print(f"Myopic enabled: {results['myopic_enabled']}")
    print(f"Total decisions: {results['num_decisions']}")
    print(f"Lambda used: {results['lambda_used']:.2f}")
    print(f"Each decision was optimized by existing SOR for market/limit split")
    
    return results

if __name__ == "__main__":
    basic_integration_example()
