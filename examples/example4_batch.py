#!/usr/bin/env python3
"""
Example of batch processing framework I built for multiple stocks/days
"""

from main_myopic_final import run_job_with_myopic
from concurrent.futures import ThreadPoolExecutor, as_completed
import pandas as pd

def batch_processing_example():
    # My batch processing configuration
    stocks = ["AAPL", "MSFT", "GOOGL"]
    days = ["2025-04-01", "2025-04-02", "2025-04-03"]
    
    strategy_params = {
        'S': 100,
        'T': 5,
        'f': 0.003,
        'r': [0.003],
        'lambda_u': 0.05,
        'lambda_o': 0.05,
        'N': 1000
    }
    
    # My parallel processing framework
    def process_combination(stock, day):
        try:
            stock_result, results = run_job_with_myopic(
                stock=stock,
                day=day,
                strategy_params=strategy_params,
                data_path="./data/",
                order_freq=120,
                start_time=("09", "30"),
                end_time=("16", "00"),
                lookup_duration=(0, 15),
                market_data_path="./data/",
                use_myopic=True
            )
            return (stock, day, results)
        except Exception as e:
            print(f"Error processing {stock} on {day}: {e}")
            return (stock, day, None)
    
    # Execute batch processing using my framework
    all_results = {}
    
    # Sequential processing example I designed
    for stock in stocks:
        for day in days:
            key = f"{stock}_{day}"
            print(f"Processing {key}...")
            
            stock_name, day_name, result = process_combination(stock, day)
            if result:
                all_results[key] = result
                print(f"✅ Completed {key}: {result['num_decisions']} decisions")
            else:
                print(f"❌ Failed {key}")
    
    # Summary analysis using my framework
    print("\n=== My Batch Processing Results Summary ===")
    for key, result in all_results.items():
        if result:
            print(f"{key}: ${result['avg_cost_per_share']:.4f} avg cost, "
                  f"{result['num_decisions']} decisions, "
                  f"λ={result['lambda_used']:.0f}")
    
    return all_results

if __name__ == "__main__":
    batch_processing_example()
